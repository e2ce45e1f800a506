import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { InvalidSpecError } from './errors';

/** Where the actor's identity appears inside the sandbox. */
export const ACTOR_ID_PATH = '/run/ate/actor-id';

/** A host directory bind-mounted read-write into the sandbox (a durable dir). */
export interface DurableMount {
  /** Host path. */
  readonly source: string;
  /** Path inside the sandbox. */
  readonly destination: string;
}

/** gVisor's (and CRI's) annotation naming a container's role in a multi-container sandbox. */
export const CONTAINER_TYPE_ANNOTATION = 'io.kubernetes.cri.container-type';
/** gVisor's (and CRI's) annotation naming the root container of the sandbox an app container joins. */
export const SANDBOX_ID_ANNOTATION = 'io.kubernetes.cri.sandbox-id';
/** The container's name, for tools (runsc ignores it). */
export const CONTAINER_NAME_ANNOTATION = 'io.kubernetes.cri.container-name';

/**
 * A container's place in a multi-container sandbox: the root container (`sandbox`, it creates the
 * sandbox; upstream's `pause`), or an app container started inside the root's sandbox (`container`).
 * Without a role the bundle describes a sandbox of its one container.
 */
export type ContainerRole =
  | { readonly type: 'sandbox'; readonly name: string }
  | { readonly type: 'container'; readonly name: string; readonly sandboxId: string };

/** The annotations runsc reads to put a container into a multi-container sandbox. */
export function roleAnnotations(role: ContainerRole): Record<string, string> {
  return {
    [CONTAINER_TYPE_ANNOTATION]: role.type,
    [CONTAINER_NAME_ANNOTATION]: role.name,
    ...(role.type === 'container' && { [SANDBOX_ID_ANNOTATION]: role.sandboxId }),
  };
}

/** What the OCI bundle of one sandboxed process holds. */
export interface BundleSpec {
  readonly args: readonly string[];
  readonly env?: readonly string[];
  /** Working directory inside the sandbox (absolute); `/` by default. */
  readonly cwd?: string;
  /** Host path of the root filesystem. */
  readonly rootfs: string;
  /**
   * Read-only root filesystem. With `--overlay2=root:memory` a writable root keeps its writes in sandbox
   * memory (they travel inside the checkpoint); a read-only one refuses them.
   */
  readonly readonlyRootfs: boolean;
  /** Path of the network namespace the sandbox joins (`/run/netns/<name>`). */
  readonly networkNamespacePath: string;
  /**
   * Host path of the file holding the actor id, bind-mounted read-only at {@link ACTOR_ID_PATH}; every
   * app container has it, a pause container does not.
   */
  readonly actorIdFile?: string;
  readonly durableMounts?: readonly DurableMount[];
  readonly hostname?: string;
  /** The container's role in a multi-container sandbox (annotations runsc reads); none for a single one. */
  readonly role?: ContainerRole;
}

const ACTOR_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,252}$/;

function absolute(what: string, path: string): string {
  if (!isAbsolute(path) || path.split('/').includes('..')) {
    throw new InvalidSpecError(`${what} must be an absolute path without "..", got ${JSON.stringify(path)}`);
  }
  return path;
}

/** The OCI runtime spec (`config.json`) for a bundle; pure, so it can be checked without runsc. */
export function buildOciSpec(spec: BundleSpec): Record<string, unknown> {
  if (spec.args.length === 0 || spec.args[0] === '') throw new InvalidSpecError('args must name a program');
  const env = spec.env ?? ['PATH=/usr/local/bin:/usr/bin:/bin'];
  for (const entry of env) {
    if (!/^[^=\0]+=[^\0]*$/.test(entry))
      throw new InvalidSpecError(`env entry ${JSON.stringify(entry)} is not NAME=value`);
  }
  const durable = (spec.durableMounts ?? []).map((mount) => ({
    destination: absolute('durable mount destination', mount.destination),
    type: 'bind',
    source: absolute('durable mount source', mount.source),
    options: ['rbind', 'rw'],
  }));
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: [...spec.args],
      env: [...env],
      cwd: absolute('cwd', spec.cwd ?? '/'),
    },
    root: { path: absolute('rootfs', spec.rootfs), readonly: spec.readonlyRootfs },
    hostname: spec.hostname ?? 'runsc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] },
      ...(spec.actorIdFile === undefined
        ? []
        : [
            {
              destination: ACTOR_ID_PATH,
              type: 'bind',
              source: absolute('actor id file', spec.actorIdFile),
              options: ['rbind', 'ro'],
            },
          ]),
      ...durable,
    ],
    ...(spec.role !== undefined && { annotations: roleAnnotations(spec.role) }),
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        // runsc joins this namespace itself; wrapping runsc in `ip netns exec` would remount /sys and break it.
        { type: 'network', path: absolute('network namespace path', spec.networkNamespacePath) },
      ],
    },
  };
}

/** Writes `<dir>/config.json` atomically (temp file + rename), creating `dir`. */
export async function writeBundle(dir: string, spec: BundleSpec): Promise<string> {
  const config = buildOciSpec(spec);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'config.json');
  const temp = `${path}.tmp`;
  await writeFile(temp, `${JSON.stringify(config, null, 2)}\n`);
  await rename(temp, path);
  return path;
}

/** Validates an actor id: 1–253 printable characters of `[A-Za-z0-9._:/-]`, starting with a letter or digit. */
export function validateActorId(actorId: string): string {
  if (!ACTOR_ID.test(actorId)) {
    throw new InvalidSpecError(
      `actor id ${JSON.stringify(actorId)} must be 1-253 characters of [A-Za-z0-9._:/-]`,
    );
  }
  return actorId;
}

/**
 * Writes the actor id to `<dir>/actor-id` (mode 0444) for the read-only bind mount. Called before every
 * run and restore, so an actor restored from another actor's (or a golden) snapshot reads its own id.
 */
export async function writeActorIdentity(dir: string, actorId: string): Promise<string> {
  validateActorId(actorId);
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'actor-id');
  const temp = `${path}.tmp`;
  await writeFile(temp, actorId, { mode: 0o444 });
  await chmod(temp, 0o444);
  await rename(temp, path);
  return path;
}
