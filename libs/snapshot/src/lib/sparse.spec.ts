import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { useTempDir, GiB, KiB, MiB, encodeToFile, text, writeSparse } from '../../test/helpers';
import { dataBytes, decodeToFile } from '../index';

let dir: string;
useTempDir((path) => (dir = path));

async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const out = Buffer.alloc(length);
    const { bytesRead } = await handle.read(out, 0, length, offset);
    return out.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Bytes the file really occupies on disk. */
async function allocated(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}

describe('sparse files', () => {
  it('restores a 5 GiB file holding about 1 MiB of data with the same holes', async () => {
    const size = 5 * GiB + 4321;
    const pieces = [
      { offset: 0, data: text(3 * KiB) },
      { offset: 2 * GiB + 12345, data: randomBytes(MiB) },
      { offset: 4 * GiB + 512 * MiB, data: text(64 * KiB, 3) },
      { offset: size - 5, data: Buffer.from('tail!') },
    ];
    const source = join(dir, 'pages.img');
    await writeSparse(source, size, pieces);
    expect(await allocated(source)).toBeLessThan(4 * MiB);

    const entry = await encodeToFile(source, join(dir, 'pages.img.zstd'));
    expect(entry.rawSize).toBe(size);
    // Only the 64 KiB blocks that hold data are stored (a piece that straddles a block boundary takes two).
    expect(entry.extents).toEqual([
      { offset: 0, length: 64 * KiB },
      { offset: 2 * GiB, length: MiB + 64 * KiB },
      { offset: 4 * GiB + 512 * MiB, length: 64 * KiB },
      { offset: 5 * GiB, length: 4321 },
    ]);
    expect(dataBytes(entry.extents)).toBeLessThan(2 * MiB);
    expect(entry.compressedSize).toBeLessThan(MiB + 64 * KiB);

    const restored = join(dir, 'restored.img');
    const result = await decodeToFile(createReadStream(join(dir, 'pages.img.zstd')), entry, restored);
    expect(result.dataBytes).toBe(dataBytes(entry.extents));

    const info = await stat(restored);
    expect(info.size).toBe(size);
    // The holes stayed holes: a few MiB on disk for a file of 5 GiB.
    expect(await allocated(restored)).toBeLessThan(4 * MiB);
    for (const { offset, data } of pieces) {
      expect((await readAt(restored, offset, data.length)).equals(data)).toBe(true);
    }
    // And the holes read as zeros, just past each piece and far from any.
    for (const offset of [3 * KiB, GiB, 2 * GiB + 12345 + MiB, 3 * GiB, size - 6 - 4096]) {
      expect((await readAt(restored, offset, 4096)).equals(Buffer.alloc(4096))).toBe(true);
    }
  }, 120_000);

  it('restores a file that is one big hole as an empty allocation of the right size', async () => {
    const source = join(dir, 'hole.img');
    await writeSparse(source, 2 * GiB, []);
    const entry = await encodeToFile(source, join(dir, 'hole.img.zstd'));
    expect(entry.extents).toEqual([]);
    expect(entry.compressedSize).toBeLessThan(64);

    const restored = join(dir, 'restored.img');
    await decodeToFile(createReadStream(join(dir, 'hole.img.zstd')), entry, restored);
    expect((await stat(restored)).size).toBe(2 * GiB);
    expect(await allocated(restored)).toBe(0);
  }, 120_000);
});
