import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Directories every image rootfs has (mount points runsc and the bundle expect). */
const BASE_DIRS = ['bin', 'dev', 'etc', 'proc', 'run/ate', 'sys', 'tmp'];

/** Shared libraries `ldd` lists for a dynamically linked executable (absolute paths, the loader included). */
export async function sharedLibraries(executable: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ldd', [executable], { timeout: 10_000 }).catch(
    (error: { stdout?: string }) => {
      // `ldd` on a static binary exits 1 with "not a dynamic executable": no libraries.
      if (typeof error.stdout === 'string') return { stdout: error.stdout };
      throw error;
    },
  );
  return [...stdout.matchAll(/(\/\S+)\s+\(0x/g)].map((match) => match[1]).filter((p): p is string => !!p);
}

/** Copies a host file into `rootfs` (at the same path unless `inside` is given), executable. */
async function copyInto(rootfs: string, hostPath: string, inside = hostPath, mode = 0o755): Promise<void> {
  const target = join(rootfs, inside);
  await mkdir(dirname(target), { recursive: true });
  await copyFile(hostPath, target);
  await chmod(target, mode);
}

async function baseDirs(rootfs: string): Promise<void> {
  for (const dir of BASE_DIRS) await mkdir(join(rootfs, dir), { recursive: true });
  await writeFile(join(rootfs, 'etc/hostname'), 'runsc\n');
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\n');
}

/**
 * A Node.js rootfs: the given node binary at `/bin/node` with the shared libraries it needs, and each
 * script of `files` (path inside → content).
 */
export async function buildNodeRootfs(
  rootfs: string,
  node: string,
  files: Readonly<Record<string, string>>,
): Promise<void> {
  await baseDirs(rootfs);
  await copyInto(rootfs, node, '/bin/node');
  for (const library of await sharedLibraries(node)) await copyInto(rootfs, library);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(rootfs, path)), { recursive: true });
    await writeFile(join(rootfs, path), content, { mode: 0o644 });
  }
}

/** A busybox rootfs: a static busybox at `/bin/busybox` and one symlink per applet in `/bin`. */
export async function buildBusyboxRootfs(rootfs: string, busybox: string, applets: readonly string[]) {
  await baseDirs(rootfs);
  await copyInto(rootfs, busybox, '/bin/busybox');
  for (const applet of applets) await symlink('busybox', join(rootfs, 'bin', applet));
}

/** True when `executable` is statically linked (a busybox copied alone must be). */
export async function isStatic(executable: string): Promise<boolean> {
  return (await sharedLibraries(executable)).length === 0;
}
