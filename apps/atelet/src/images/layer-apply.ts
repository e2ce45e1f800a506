import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { UnsafeLayerEntryError } from '../errors/atelet-error';
import { readTar, type TarHeader } from './tar-reader';

/** What applying one layer did. */
export interface LayerApplied {
  /** Entries written (files, directories, links). */
  readonly entries: number;
  /** Bytes of regular-file content written. */
  readonly bytes: number;
  /** Whiteouts applied (`.wh.<name>` and opaque `.wh..wh..opq`). */
  readonly whiteouts: number;
  /** Device and fifo entries skipped (the sandbox's /dev is its own). */
  readonly skipped: number;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const MAX_SYMLINK_HOPS = 40;

/** The entry's path as clean relative segments; `[]` is the root itself. Refuses `..` escapes. */
export function entrySegments(name: string): string[] {
  const segments: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new UnsafeLayerEntryError(name, 'contains ..');
    segments.push(part);
  }
  return segments;
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Resolves `segments` inside `root` the way the sandbox will see them: symlinks met on the way are followed
 * with `root` as `/` (absolute targets re-rooted, `..` clamped at the root), so no entry can be written
 * outside the rootfs. The last segment is not followed. Returns the host path.
 */
async function resolveParentInRoot(
  root: string,
  segments: readonly string[],
  entry: string,
): Promise<string> {
  const resolved: string[] = [];
  const pending = segments.slice(0, -1);
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '.' || part === '') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const here = join(root, ...resolved, part);
    const info = await lstatOrUndefined(here);
    if (info?.isSymbolicLink() === true) {
      if (++hops > MAX_SYMLINK_HOPS)
        throw new UnsafeLayerEntryError(entry, 'too many levels of symbolic links');
      const target = await readlink(here);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...target.split('/').filter((p) => p !== ''));
      continue;
    }
    resolved.push(part);
  }
  const last = segments[segments.length - 1];
  return last === undefined ? join(root, ...resolved) : join(root, ...resolved, last);
}

async function removeExisting(path: string, keepDirectory: boolean): Promise<void> {
  const info = await lstatOrUndefined(path);
  if (info === undefined) return;
  if (keepDirectory && info.isDirectory()) return;
  await rm(path, { recursive: true, force: true });
}

async function ensureDirectories(root: string, segments: readonly string[], entry: string): Promise<void> {
  // Parents an archive does not list are created 0755 (as tar and umoci do).
  for (let i = 1; i < segments.length; i++) {
    // Symlinks among the parents are followed (inside the root), as the sandbox would.
    const path = await resolveParentInRoot(root, [...segments.slice(0, i), '.'], entry);
    const info = await lstatOrUndefined(path);
    if (info === undefined) await mkdir(path, { mode: 0o755 });
    else if (!info.isDirectory()) {
      await rm(path, { force: true });
      await mkdir(path, { mode: 0o755 });
    }
  }
}

async function setOwnerAndTime(path: string, header: TarHeader, asRoot: boolean): Promise<void> {
  if (asRoot) await lchown(path, header.uid, header.gid);
  await lutimes(path, header.mtimeSeconds, header.mtimeSeconds).catch(() => undefined);
}

/**
 * Applies one uncompressed layer tar to `root` (an OCI image layer changeset): regular files, directories,
 * symlinks and hard links, later entries replacing earlier ones; whiteouts `.wh.<name>` delete `<name>` from
 * the layers below and the opaque whiteout `.wh..wh..opq` empties its directory of what the layers below put
 * there (entries of this same layer stay). Modes come from the tar header; ownership too when atelet runs as
 * root. Paths and hard-link targets are confined to `root` (`..` refused, symlinks resolved inside it).
 * Devices and fifos are skipped. Directory times are not preserved.
 */
export async function applyLayer(
  root: string,
  tar: AsyncIterable<Buffer | Uint8Array | string>,
): Promise<LayerApplied> {
  const asRoot = process.getuid?.() === 0;
  const thisLayer = new Set<string>();
  let entries = 0;
  let bytes = 0;
  let whiteouts = 0;
  let skipped = 0;
  for await (const { header, body } of readTar(tar)) {
    const segments = entrySegments(header.name);
    const base = segments[segments.length - 1];
    if (base === undefined) continue; // the root directory itself
    const key = segments.join('/');
    if (base.startsWith(WHITEOUT)) {
      const dirSegments = segments.slice(0, -1);
      const dir = await resolveParentInRoot(root, [...dirSegments, '.'], header.name).then((p) =>
        p.replace(/\/\.$/, ''),
      );
      whiteouts++;
      if (base === OPAQUE) {
        const dirKey = dirSegments.join('/');
        const children = await readdir(dir).catch(() => [] as string[]);
        for (const child of children) {
          const childKey = dirKey === '' ? child : `${dirKey}/${child}`;
          if (!thisLayer.has(childKey)) await rm(join(dir, child), { recursive: true, force: true });
        }
      } else {
        const hidden = base.slice(WHITEOUT.length);
        if (hidden === '' || hidden === '.' || hidden === '..')
          throw new UnsafeLayerEntryError(header.name, 'bad whiteout name');
        await rm(join(dir, hidden), { recursive: true, force: true });
      }
      continue;
    }
    if (header.type === 'char' || header.type === 'block' || header.type === 'fifo') {
      skipped++;
      continue;
    }
    if (header.type === 'other') throw new UnsafeLayerEntryError(header.name, 'unsupported tar entry type');
    await ensureDirectories(root, segments, header.name);
    const path = await resolveParentInRoot(root, segments, header.name);
    thisLayer.add(key);
    entries++;
    switch (header.type) {
      case 'directory': {
        await removeExisting(path, true);
        const info = await lstatOrUndefined(path);
        if (info === undefined) await mkdir(path, { mode: header.mode });
        await chmod(path, header.mode);
        if (asRoot) await lchown(path, header.uid, header.gid);
        break;
      }
      case 'file': {
        await removeExisting(path, false);
        await pipeline(Readable.from(body), createWriteStream(path, { mode: header.mode, flags: 'wx' }));
        bytes += header.size;
        await chmod(path, header.mode);
        await setOwnerAndTime(path, header, asRoot);
        break;
      }
      case 'symlink': {
        await removeExisting(path, false);
        await symlink(header.linkname, path);
        await setOwnerAndTime(path, header, asRoot);
        break;
      }
      case 'hardlink': {
        const targetSegments = entrySegments(header.linkname);
        if (targetSegments.length === 0)
          throw new UnsafeLayerEntryError(header.name, 'hard link to the root');
        const target = await resolveParentInRoot(root, targetSegments, header.name);
        const info = await lstatOrUndefined(target);
        if (info === undefined)
          throw new UnsafeLayerEntryError(
            header.name,
            `hard link target ${JSON.stringify(header.linkname)} does not exist`,
          );
        if (info.isDirectory()) throw new UnsafeLayerEntryError(header.name, 'hard link to a directory');
        if (posix.normalize(target) === posix.normalize(path)) break;
        await removeExisting(path, false);
        await link(target, path);
        break;
      }
    }
  }
  return { entries, bytes, whiteouts, skipped };
}
