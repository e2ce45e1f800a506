import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { COUNTER_DURABLE_DIR, COUNTER_PORT, COUNTER_SCRIPT_PATH, COUNTER_SOURCE } from './counter-app';
import { writeOciLayout, type OciLayout } from './oci-layout';
import { buildBusyboxRootfs, buildNodeRootfs, isStatic, sharedLibraries } from './rootfs';
import { SHELL_PORT, SHELL_SCRIPT_PATH, SHELL_SOURCE } from './shell-app';

/** The images this tool builds. */
export type ImageName = 'counter' | 'shell' | 'pause';

export const IMAGE_NAMES: readonly ImageName[] = ['counter', 'shell', 'pause'];

/** Where the pause image's program lives (upstream's pause images use `/pause` too). */
export const PAUSE_PATH = '/pause';

/**
 * The pause image's program: the root container of a multi-container sandbox, which only has to stay
 * alive (and end on SIGTERM or SIGINT) while the app containers run beside it.
 */
export const PAUSE_SOURCE = `#!/bin/sh
trap 'exit 0' TERM INT
while :; do
  sleep 2147483647 &
  wait $!
done
`;

/** A built image: its OCI layout and, for tests that skip unpacking, the rootfs it was packed from. */
export interface BuiltImage {
  readonly name: ImageName;
  readonly tag: string;
  /** The OCI image layout directory. */
  readonly layoutDir: string;
  /** `oci:<layoutDir>:<tag>`, as skopeo and umoci name it. */
  readonly reference: string;
  /** `sha256:…` of the image manifest. */
  readonly manifestDigest: string;
  readonly layerDigests: readonly string[];
  /** The root filesystem the single layer holds. */
  readonly rootfs: string;
  /** The command the image runs (also its config's Cmd). */
  readonly command: readonly string[];
  readonly env: readonly string[];
  /** HTTP port the actor listens on inside the sandbox. */
  readonly port: number;
  /** Readiness path answering 200 once the actor serves. */
  readonly readyzPath: string;
  /** Mount path of the durable dir the actor uses, if any. */
  readonly durableDir?: string;
}

export interface BuildOptions {
  /** Where built images are kept (`SUBSTRATE_IMAGES_CACHE`, default `<repo>/tmp/images`). */
  readonly cacheDir?: string;
  /** Node.js binary copied into the counter image (this process's by default). */
  readonly node?: string;
  /** Statically linked busybox for the shell image (found like the other tools by default). */
  readonly busybox?: string;
  readonly tar?: string;
}

/** Bump when the builder's output changes for the same inputs. */
const BUILDER_VERSION = 2;
const REPO_ROOT = resolve(__dirname, '../../..');
const ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

/** busybox applets of the shell image, as symlinks in /bin. */
const SHELL_APPLETS = [
  'cat',
  'cp',
  'echo',
  'env',
  'grep',
  'head',
  'hostname',
  'id',
  'ls',
  'mkdir',
  'mv',
  'rm',
  'sh',
  'sleep',
  'tail',
  'touch',
  'wc',
] as const;

/** busybox from the project's tools directory (`npm run setup`), else from PATH. */
function findBusybox(): string | undefined {
  const dirs = [join(REPO_ROOT, '.tools', 'bin'), ...(process.env['PATH'] ?? '').split(delimiter)];
  return dirs.map((dir) => join(dir, 'busybox')).find((candidate) => existsSync(candidate));
}

export function defaultCacheDir(): string {
  return process.env['SUBSTRATE_IMAGES_CACHE'] ?? join(REPO_ROOT, 'tmp', 'images');
}

interface Recipe {
  readonly command: readonly string[];
  readonly port: number;
  readonly readyzPath: string;
  readonly durableDir?: string;
  /** Inputs that decide the output: texts and host files (path, size, mtime). */
  readonly inputs: readonly string[];
  readonly hostFiles: readonly string[];
  build(rootfs: string): Promise<void>;
}

async function recipe(name: ImageName, options: BuildOptions): Promise<Recipe> {
  if (name === 'counter') {
    const node = options.node ?? process.execPath;
    return {
      command: ['/bin/node', COUNTER_SCRIPT_PATH],
      port: COUNTER_PORT,
      readyzPath: '/readyz',
      durableDir: COUNTER_DURABLE_DIR,
      inputs: [COUNTER_SOURCE],
      hostFiles: [node, ...(await sharedLibraries(node))],
      build: async (rootfs) => {
        await buildNodeRootfs(rootfs, node, { [COUNTER_SCRIPT_PATH]: COUNTER_SOURCE });
        await mkdir(join(rootfs, COUNTER_DURABLE_DIR), { recursive: true });
      },
    };
  }
  const busybox = options.busybox ?? findBusybox();
  if (busybox === undefined) throw new Error(`the ${name} image needs busybox: run \`npm run setup\``);
  if (!(await isStatic(busybox))) throw new Error(`${busybox} is not statically linked`);
  if (name === 'pause') {
    return {
      command: [PAUSE_PATH],
      port: 0,
      readyzPath: '',
      inputs: [PAUSE_SOURCE],
      hostFiles: [busybox],
      build: async (rootfs) => {
        await buildBusyboxRootfs(rootfs, busybox, ['sh', 'sleep']);
        await writeFile(join(rootfs, PAUSE_PATH), PAUSE_SOURCE, { mode: 0o755 });
        await chmod(join(rootfs, PAUSE_PATH), 0o755);
      },
    };
  }
  const node = options.node ?? process.execPath;
  return {
    command: ['/bin/node', SHELL_SCRIPT_PATH],
    port: SHELL_PORT,
    readyzPath: '/readyz',
    inputs: [SHELL_SOURCE, SHELL_APPLETS.join(',')],
    hostFiles: [busybox, node, ...(await sharedLibraries(node))],
    build: async (rootfs) => {
      await buildNodeRootfs(rootfs, node, { [SHELL_SCRIPT_PATH]: SHELL_SOURCE });
      await copyFile(busybox, join(rootfs, 'bin', 'busybox'));
      await chmod(join(rootfs, 'bin', 'busybox'), 0o755);
      for (const applet of SHELL_APPLETS) await symlink('busybox', join(rootfs, 'bin', applet));
    },
  };
}

async function cacheKey(name: ImageName, r: Recipe): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify({ BUILDER_VERSION, name, inputs: r.inputs }));
  for (const file of r.hostFiles) {
    const info = await stat(file);
    hash.update(`\0${file}\0${info.size}\0${info.mtimeMs}`);
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds (or finds in the cache) one of the test images as an OCI image layout. The cache entry is keyed
 * by the builder's inputs (scripts, and path, size and mtime of every host file copied in), built in a
 * private directory and renamed into place, so concurrent builds never see half an image.
 */
export async function buildImage(name: ImageName, options: BuildOptions = {}): Promise<BuiltImage> {
  const r = await recipe(name, options);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const dir = join(cacheDir, `${name}-${await cacheKey(name, r)}`);
  const record = join(dir, 'image.json');
  if (existsSync(record)) return JSON.parse(await readFile(record, 'utf8')) as BuiltImage;

  await mkdir(cacheDir, { recursive: true });
  const work = join(cacheDir, `.${name}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await r.build(join(work, 'rootfs'));
    const layout: OciLayout = await writeOciLayout(
      {
        rootfs: join(work, 'rootfs'),
        out: join(work, 'layout'),
        tag: name,
        config: {
          cmd: r.command,
          env: ENV,
          workingDir: '/',
          ...(r.port > 0 && { exposedPorts: [r.port] }),
        },
      },
      options.tar,
    );
    const image: BuiltImage = {
      name,
      tag: name,
      layoutDir: join(dir, 'layout'),
      reference: `oci:${join(dir, 'layout')}:${name}`,
      manifestDigest: layout.manifest.digest,
      layerDigests: layout.layers.map((layer) => layer.digest),
      rootfs: join(dir, 'rootfs'),
      command: r.command,
      env: ENV,
      port: r.port,
      readyzPath: r.readyzPath,
      ...(r.durableDir !== undefined && { durableDir: r.durableDir }),
    };
    await writeFile(join(work, 'image.json'), `${JSON.stringify(image, null, 2)}\n`);
    try {
      await rename(work, dir);
    } catch (error) {
      // Another build finished first; use its result.
      if (!existsSync(record)) throw error;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return JSON.parse(await readFile(record, 'utf8')) as BuiltImage;
}
