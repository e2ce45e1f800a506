import { createHash, randomBytes } from 'node:crypto';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

import { compress, decompress } from 'zstd-napi';

import { useTempDir, KiB, MiB, chunked, encodeToBuffer, text, writeSparse } from '../../test/helpers';
import { FILE_ENCODING, decodeToFile, encodeFile, verifyStream, type SnapshotFileEntry } from '../index';

let dir: string;
useTempDir((path) => (dir = path));

function i64(value: number | bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(BigInt(value));
  return out;
}

describe('the ATESPRSE v2 layout', () => {
  it('writes the documented header, size, records and end marker', async () => {
    const data = text(10 * KiB);
    await writeSparse(join(dir, 'f'), 300 * KiB, [{ offset: 128 * KiB, data }]);
    const { bytes, entry } = await encodeToBuffer(join(dir, 'f'));

    expect(bytes.subarray(0, 8).toString('latin1')).toBe('ATESPRSE');
    expect(bytes.readUInt32LE(8)).toBe(2);
    const payload = decompress(bytes.subarray(12));
    const block = Buffer.concat([data, Buffer.alloc(64 * KiB - data.length)]);
    expect(
      payload.equals(Buffer.concat([i64(300 * KiB), i64(128 * KiB), i64(64 * KiB), block, i64(-1)])),
    ).toBe(true);
    expect(entry.extents).toEqual([{ offset: 128 * KiB, length: 64 * KiB }]);
  });

  it('reads a stream as upstream writes it: split, touching records and no zstd checksum', async () => {
    const first = randomBytes(5000);
    const second = text(3000);
    const payload = Buffer.concat([
      i64(1 * MiB),
      i64(4096),
      i64(first.length),
      first,
      i64(4096 + first.length), // touches the previous record: one extent in the manifest
      i64(second.length),
      second,
      i64(-1),
    ]);
    const header = Buffer.concat([Buffer.from('ATESPRSE', 'latin1'), Buffer.from([2, 0, 0, 0])]);
    const stream = Buffer.concat([header, compress(payload)]);
    const entry: SnapshotFileEntry = {
      name: 'pages.img',
      encoding: FILE_ENCODING,
      rawSize: MiB,
      compressedSize: stream.length,
      compressedCrc32: crc32(stream).toString(16).padStart(8, '0'),
      sha256: createHash('sha256').update(first).update(second).digest('hex'),
      extents: [{ offset: 4096, length: first.length + second.length }],
    };
    await decodeToFile(chunked(stream, 100), entry, join(dir, 'pages.img'));
    await expect(verifyStream(chunked(stream), entry)).resolves.toMatchObject({ dataBytes: 8000 });
  });

  it('rejects records that overlap, even when every checksum was computed over them', async () => {
    const a = text(100);
    const payload = Buffer.concat([i64(1000), i64(0), i64(100), a, i64(50), i64(100), a, i64(-1)]);
    const stream = Buffer.concat([
      Buffer.from('ATESPRSE', 'latin1'),
      Buffer.from([2, 0, 0, 0]),
      compress(payload),
    ]);
    const entry: SnapshotFileEntry = {
      name: 'x',
      encoding: FILE_ENCODING,
      rawSize: 1000,
      compressedSize: stream.length,
      compressedCrc32: crc32(stream).toString(16).padStart(8, '0'),
      sha256: createHash('sha256').update(a).update(a).digest('hex'),
      extents: [{ offset: 0, length: 150 }],
    };
    await expect(verifyStream(chunked(stream), entry)).rejects.toMatchObject({
      code: 'CORRUPT_STREAM',
      message: 'snapshot file "x": has an extent [50, +100) out of order or past the file size 1000',
    });
  });
});

describe('a source that changes while it is encoded', () => {
  it('fails with SOURCE_CHANGED when the file shrinks', async () => {
    await writeFile(join(dir, 'f'), randomBytes(8 * MiB));
    const encoded = encodeFile(join(dir, 'f'));
    const failure = expect(encoded.entry).rejects.toMatchObject({ code: 'SOURCE_CHANGED' });
    const iterator = encoded.stream[Symbol.asyncIterator]();
    await iterator.next(); // the header: the size is fixed now
    await truncate(join(dir, 'f'), MiB);
    await expect(
      (async () => {
        for (;;) if ((await iterator.next()).done === true) return;
      })(),
    ).rejects.toMatchObject({ code: 'SOURCE_CHANGED' });
    await failure;
  });
});
