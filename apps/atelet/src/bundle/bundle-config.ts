import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidImageError, InvalidRequestError } from '../errors/atelet-error';
import { type ContainerRequest } from '../herder/herder-request';
import { type ImageRuntimeConfig } from '../images/image-source';

/** Used when the image config sets no PATH (upstream's default). */
export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The process of a container: the image's defaults, overridden by the template. */
export interface ContainerProcess {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: { readonly uid: number; readonly gid: number };
}

/** Looks a user or group name up in the rootfs's `/etc/passwd` or `/etc/group`. */
async function lookup(
  rootfs: string,
  file: 'passwd' | 'group',
  name: string,
): Promise<{ id: number; gid?: number } | undefined> {
  const text = await readFile(join(rootfs, 'etc', file), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) {
      const gid =
        file === 'passwd' && fields[3] !== undefined && /^\d+$/.test(fields[3])
          ? Number(fields[3])
          : undefined;
      return { id: Number(fields[2]), ...(gid !== undefined && { gid }) };
    }
  }
  return undefined;
}

/** `uid`, `uid:gid`, `name` or `name:group` (the image config's `User`) as numbers; empty means root. */
export async function resolveUser(
  rootfs: string,
  user: string | undefined,
  image: string,
): Promise<{ uid: number; gid: number }> {
  if (user === undefined || user === '') return { uid: 0, gid: 0 };
  const [userPart = '', groupPart] = user.split(':', 2);
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(userPart)) uid = Number(userPart);
  else {
    const found = await lookup(rootfs, 'passwd', userPart);
    if (found === undefined)
      throw new InvalidImageError(image, `user ${JSON.stringify(userPart)} is not in /etc/passwd`);
    uid = found.id;
    gid = found.gid;
  }
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const found = await lookup(rootfs, 'group', groupPart);
      if (found === undefined)
        throw new InvalidImageError(image, `group ${JSON.stringify(groupPart)} is not in /etc/group`);
      gid = found.id;
    }
  }
  return { uid, gid: gid ?? 0 };
}

/**
 * The container's process: the template's `command` replaces the image's entrypoint and cmd when given
 * (otherwise entrypoint + cmd); env is the image's (PATH by default), then the template's, later names
 * winning; working dir and user come from the image.
 */
export async function containerProcess(
  container: ContainerRequest,
  image: ImageRuntimeConfig,
  rootfs: string,
  field: string,
): Promise<ContainerProcess> {
  const args =
    container.command.length > 0
      ? [...container.command]
      : [...(image.Entrypoint ?? []), ...(image.Cmd ?? [])];
  if (args.length === 0) {
    throw new InvalidRequestError(
      `${field}.command`,
      `is empty and image ${container.image} has no entrypoint or cmd`,
    );
  }
  const env = new Map<string, string>();
  const imageEnv = image.Env ?? [];
  for (const entry of imageEnv.some((e) => e.startsWith('PATH=')) ? imageEnv : [DEFAULT_PATH, ...imageEnv]) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  for (const { name, value } of container.env) {
    env.delete(name);
    env.set(name, value);
  }
  return {
    args,
    env: [...env].map(([name, value]) => `${name}=${value}`),
    cwd: image.WorkingDir !== undefined && image.WorkingDir !== '' ? image.WorkingDir : '/',
    user: await resolveUser(rootfs, image.User, container.image),
  };
}

/**
 * The bundle's `config.json` (OCI runtime spec); `type` is `sandbox` for the pause container of a
 * multi-container sandbox. ateom reads `process.args`, `process.env`, `process.cwd`
 * and `root.path` from it and builds the sandbox's namespaces, mounts, identity file and durable dirs
 * itself; the other fields describe the same sandbox for tools such as `runsc` run by hand.
 */
export function bundleConfig(
  process: ContainerProcess,
  rootfs: string,
  container: string,
  type: 'container' | 'sandbox' = 'container',
): Record<string, unknown> {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: process.user,
      args: process.args,
      env: process.env,
      cwd: process.cwd,
      capabilities: { bounding: caps, effective: caps, inheritable: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    },
    root: { path: rootfs, readonly: false },
    hostname: 'runsc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    annotations: {
      'io.kubernetes.cri.container-type': type,
      'io.kubernetes.cri.container-name': container,
    },
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    },
  };
}

/** Writes `<bundleDir>/config.json` atomically (temporary file, then rename). */
export async function writeBundle(bundleDir: string, config: Record<string, unknown>): Promise<void> {
  await mkdir(bundleDir, { recursive: true, mode: 0o700 });
  const temp = join(bundleDir, '.config.json.tmp');
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, join(bundleDir, 'config.json'));
}
