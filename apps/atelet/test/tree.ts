import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/** A comparable description of a directory tree: type, permission bits, size, content hash, link target, hard-link group. */
export function describeTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, string>();
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const key = rel === '' ? name : `${rel}/${name}`;
      const info = lstatSync(path);
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) out[key] = `symlink -> ${readlinkSync(path)}`;
      else if (info.isDirectory()) {
        out[key] = `dir ${mode}`;
        walk(path, key);
      } else if (info.isFile()) {
        const first = inodes.get(info.ino);
        if (first === undefined) inodes.set(info.ino, key);
        const hash = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
        out[key] = `file ${mode} ${info.size} ${hash}${info.nlink > 1 ? ` linked-with ${first ?? key}` : ''}`;
      } else out[key] = 'other';
    }
  };
  walk(root, '');
  return out;
}
