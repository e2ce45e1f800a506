import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { pipeline } from 'node:stream/promises';

import {
  useTempDir,
  KiB,
  MiB,
  chunked,
  encodeToBuffer,
  fileSha256,
  listDir,
  text,
  writeMixed,
} from '../../test/helpers';
import {
  SnapshotIntegrityError,
  compressZstd,
  decodeToFile,
  decompressZstd,
  encodeFile,
  verifyStream,
  type IntegrityErrorCode,
  type SnapshotFileEntry,
} from '../index';
import { framePool, framesWorthDecodingApart } from './frame-decode';

let dir: string;
useTempDir((path) => (dir = path));

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Runs `fn`, expecting a SnapshotIntegrityError with `code` that names `name`. */
async function expectIntegrity(
  fn: () => Promise<unknown>,
  code: IntegrityErrorCode,
  name: string,
): Promise<void> {
  const error = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SnapshotIntegrityError);
  expect(error).toMatchObject({ code, fileName: name });
  expect((error as Error).message).toContain(`snapshot file "${name}"`);
}

describe('round trips', () => {
  it.each([
    ['random bytes of an odd size', () => randomBytes(3 * MiB + 123)],
    ['text', () => text(2 * MiB + 7)],
    ['a single byte', () => Buffer.from([42])],
  ])('restores %s byte for byte', async (_label, make) => {
    const content = make();
    await writeFile(join(dir, 'in.img'), content);
    const { bytes, entry } = await encodeToBuffer(join(dir, 'in.img'));
    expect(entry).toMatchObject({ name: 'in.img', rawSize: content.length, compressedSize: bytes.length });
    expect(entry.sha256).toBe(sha256(content)); // no holes: the digest is the file's sha256sum

    const result = await decodeToFile(chunked(bytes), entry, join(dir, 'out.img'));
    expect(result).toEqual({
      name: 'in.img',
      rawSize: content.length,
      dataBytes: content.length,
      compressedSize: bytes.length,
    });
    expect((await readFile(join(dir, 'out.img'))).equals(content)).toBe(true);
  });

  it('replaces an existing destination atomically, with mode 0600 unless told otherwise', async () => {
    await writeFile(join(dir, 'in.img'), text(KiB));
    await writeFile(join(dir, 'out.img'), 'stale');
    const { bytes, entry } = await encodeToBuffer(join(dir, 'in.img'));
    await decodeToFile(chunked(bytes), entry, join(dir, 'out.img'));
    expect(await readFile(join(dir, 'out.img'), 'utf8')).toBe(text(KiB).toString());
    expect((await stat(join(dir, 'out.img'))).mode & 0o777).toBe(0o600);
    await decodeToFile(chunked(bytes), entry, join(dir, 'shared.img'), { mode: 0o640, fsync: false });
    expect((await stat(join(dir, 'shared.img'))).mode & 0o777).toBe(0o640);
    expect(await listDir(dir)).toEqual(['in.img', 'out.img', 'shared.img']);
  });

  it('compresses text well and stores random data at about its size', async () => {
    await writeFile(join(dir, 'text'), text(4 * MiB));
    await writeFile(join(dir, 'random'), randomBytes(4 * MiB));
    const textEntry = (await encodeToBuffer(join(dir, 'text'))).entry;
    const randomEntry = (await encodeToBuffer(join(dir, 'random'))).entry;
    expect(textEntry.compressedSize).toBeLessThan(textEntry.rawSize / 3);
    expect(randomEntry.compressedSize).toBeLessThan(randomEntry.rawSize * 1.01);
  });

  it('restores an empty file as an empty file with no extents', async () => {
    await writeFile(join(dir, 'empty'), '');
    const { bytes, entry } = await encodeToBuffer(join(dir, 'empty'));
    expect(entry).toMatchObject({ rawSize: 0, extents: [], sha256: sha256(Buffer.alloc(0)) });
    await decodeToFile(chunked(bytes), entry, join(dir, 'restored'));
    expect((await stat(join(dir, 'restored'))).size).toBe(0);
  });

  it('stores all-zero 64 KiB blocks of a dense file as holes and restores the zeros', async () => {
    const content = Buffer.concat([text(100 * KiB), Buffer.alloc(256 * KiB), randomBytes(10 * KiB)]);
    await writeFile(join(dir, 'in.img'), content);
    const { bytes, entry } = await encodeToBuffer(join(dir, 'in.img'));
    // Blocks [0, 128 KiB) hold text, [128, 320) are zeros except the start of the 5th block, ...
    expect(entry.extents).toEqual([
      { offset: 0, length: 128 * KiB },
      { offset: 320 * KiB, length: 46 * KiB },
    ]);
    await decodeToFile(chunked(bytes), entry, join(dir, 'out.img'));
    expect((await readFile(join(dir, 'out.img'))).equals(content)).toBe(true);
  });

  it('stores the whole file as one extent with sparse: false', async () => {
    await writeFile(join(dir, 'in.img'), Buffer.alloc(MiB));
    const { entry } = await encodeToBuffer(join(dir, 'in.img'), { sparse: false });
    expect(entry.extents).toEqual([{ offset: 0, length: MiB }]);
  });

  it('honours the compression level and the recorded name', async () => {
    await writeFile(join(dir, 'in.img'), text(2 * MiB));
    const fast = await encodeToBuffer(join(dir, 'in.img'), { level: 1, name: 'pages.img' });
    const small = await encodeToBuffer(join(dir, 'in.img'), { level: 9 });
    expect(fast.entry.name).toBe('pages.img');
    expect(small.entry.compressedSize).toBeLessThan(fast.entry.compressedSize);
    expect(() => encodeFile(join(dir, 'in.img'), { level: 40 })).toThrow(
      /zstd compression level must be an integer/,
    );
  });

  it.each([0, 1, 4])(
    'compresses on %s zstd worker thread(s) to the same restored bytes and entry (but its own object)',
    async (threads) => {
      const content = Buffer.concat([text(3 * MiB), Buffer.alloc(MiB), randomBytes(MiB + 5)]);
      await writeFile(join(dir, 'in.img'), content);
      const { bytes, entry } = await encodeToBuffer(join(dir, 'in.img'), { threads });
      const single = await encodeToBuffer(join(dir, 'in.img'), { threads: 0 });
      // The frames' compressed sizes differ with the threads; what they decode to does not.
      const payloads = (e: SnapshotFileEntry) => e.frames?.map((frame) => frame.payload);
      expect({ ...entry, compressedSize: 0, compressedCrc32: '', compressedSha256: '', frames: [] }).toEqual({
        ...single.entry,
        compressedSize: 0,
        compressedCrc32: '',
        compressedSha256: '',
        frames: [],
      });
      expect(payloads(entry)).toEqual(payloads(single.entry));
      expect(entry.compressedSha256).toBe(sha256(bytes));
      await decodeToFile(chunked(bytes), entry, join(dir, 'out.img'));
      expect((await readFile(join(dir, 'out.img'))).equals(content)).toBe(true);
    },
  );

  it('refuses a thread count zstd cannot take, before reading the file', () => {
    for (const threads of [-1, 1.5, 17]) {
      expect(() => encodeFile(join(dir, 'missing.img'), { threads })).toThrow(
        `zstd compression threads must be an integer from 0 to 16, got ${threads}`,
      );
    }
  });

  it('restores byte for byte a file of thousands of extents whose headers straddle output slices', async () => {
    // 64 KiB blocks, each zeros (a hole) or data of varying kinds: some 700 extents, many of whose 16-byte
    // headers fall across the decompressor's 512 KiB slices, whose buffers are reused once written.
    const blocks: Buffer[] = [];
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 1024; i++) {
      const kind = next();
      if (kind < 0.35) blocks.push(Buffer.alloc(64 * KiB));
      else if (kind < 0.7) blocks.push(text(64 * KiB + ((i * 977) % 4096)).subarray(0, 64 * KiB));
      else blocks.push(randomBytes(64 * KiB));
    }
    const content = Buffer.concat(blocks);
    await writeFile(join(dir, 'in.img'), content);
    const { bytes, entry } = await encodeToBuffer(join(dir, 'in.img'));
    expect(entry.extents.length).toBeGreaterThan(200);
    await decodeToFile(chunked(bytes, 64 * KiB), entry, join(dir, 'out.img'));
    expect(sha256(await readFile(join(dir, 'out.img')))).toBe(sha256(content));
  });

  it('streams a 128 MiB file through disk-backed streams with bounded memory', async () => {
    const size = 128 * MiB;
    await writeMixed(join(dir, 'big.img'), size);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = (): void => {
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    const encoded = encodeFile(join(dir, 'big.img'));
    encoded.stream.on('data', sample);
    await pipeline(encoded.stream, createWriteStream(join(dir, 'big.img.zstd')));
    const entry = await encoded.entry;
    // Sampled as the decoder pulls: a 'data' listener would set the stream flowing before the decoder
    // iterates it, and chunks emitted meanwhile would never reach the decoder.
    async function* sampled(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const chunk of source) {
        sample();
        yield chunk;
      }
    }
    const source = createReadStream(join(dir, 'big.img.zstd'), { highWaterMark: 256 * KiB });
    await decodeToFile(sampled(source), entry, join(dir, 'big.out'));

    expect(entry.rawSize).toBe(size);
    expect(await fileSha256(join(dir, 'big.out'))).toBe(await fileSha256(join(dir, 'big.img')));
    // Neither side ever held the file: resident memory grew by far less than its size.
    expect(peak - before).toBeLessThan(size / 2);
  }, 60_000);
});

describe('integrity', () => {
  let content: Buffer;
  let stream: Buffer;
  let entry: SnapshotFileEntry;

  beforeEach(async () => {
    content = Buffer.concat([text(4 * KiB, 7), randomBytes(200), Buffer.alloc(70 * KiB), text(2 * KiB, 9)]);
    await writeFile(join(dir, 'pages.img'), content);
    ({ bytes: stream, entry } = await encodeToBuffer(join(dir, 'pages.img')));
  });

  function flipped(position: number): Buffer {
    const copy = Buffer.from(stream);
    copy[position] = (copy[position] ?? 0) ^ 0x5a;
    return copy;
  }

  it.each([
    ['the magic', 0, 'CORRUPT_STREAM'],
    ['the layout version', 8, 'CORRUPT_STREAM'],
    ['the zstd frame header', 12, 'CORRUPT_STREAM'],
    ['the middle', -0.5, 'CORRUPT_STREAM'],
    ['the frame checksum (last byte)', -1, 'CORRUPT_STREAM'],
  ] as const)('rejects one corrupted byte in %s and leaves nothing behind', async (_where, at, code) => {
    const position = at >= 0 ? at : at === -1 ? stream.length - 1 : Math.floor(stream.length / 2);
    await writeFile(join(dir, 'restored.img'), 'previous content');
    const before = await listDir(dir);
    await expectIntegrity(
      () => decodeToFile(chunked(flipped(position)), entry, join(dir, 'restored.img')),
      code,
      'pages.img',
    );
    expect(await listDir(dir)).toEqual(before); // no temporary file left
    expect(await readFile(join(dir, 'restored.img'), 'utf8')).toBe('previous content');
  });

  it('detects a flipped byte at every position of the stream', async () => {
    const missed: number[] = [];
    for (let position = 0; position < stream.length; position++) {
      const ok = await verifyStream(chunked(flipped(position), 1024), entry).then(
        () => true,
        (e: unknown) => !(e instanceof SnapshotIntegrityError),
      );
      if (ok) missed.push(position);
    }
    expect(missed).toEqual([]);
  }, 60_000);

  it.each([0, 5, 11, 12, 13, -0.5, -1])('reports a stream cut at %s as TRUNCATED', async (at) => {
    const length = at >= 0 ? at : at === -1 ? stream.length - 1 : Math.floor(stream.length / 2);
    await expectIntegrity(
      () => decodeToFile(chunked(stream.subarray(0, length)), entry, join(dir, 'restored.img')),
      'TRUNCATED',
      'pages.img',
    );
    expect(await listDir(dir)).toEqual(['pages.img']);
  });

  it('rejects a stream whose compressed object does not match the manifest checksum', async () => {
    expect(entry.compressedSha256).toMatch(/^[0-9a-f]{64}$/);
    await expectIntegrity(
      () =>
        decodeToFile(
          chunked(stream),
          { ...entry, compressedSha256: 'f'.repeat(64) },
          join(dir, 'restored.img'),
        ),
      'CHECKSUM_MISMATCH',
      'pages.img',
    );
    expect(await listDir(dir)).toEqual(['pages.img']);
  });

  it('checks the data sha256 and the crc32 of an entry without a compressed sha256 (older snapshots)', async () => {
    const { compressedSha256: _digest, ...older } = entry;
    const restored = join(dir, 'restored.img');
    await expect(decodeToFile(chunked(stream), older, restored)).resolves.toMatchObject({
      rawSize: entry.rawSize,
    });
    await expectIntegrity(
      () => decodeToFile(chunked(stream), { ...older, sha256: 'f'.repeat(64) }, restored),
      'CHECKSUM_MISMATCH',
      'pages.img',
    );
    await expectIntegrity(
      () => decodeToFile(chunked(stream), { ...older, compressedCrc32: '00000000' }, restored),
      'CHECKSUM_MISMATCH',
      'pages.img',
    );
    const damaged = Buffer.from(stream);
    damaged[damaged.length - 1] = (damaged[damaged.length - 1] ?? 0) ^ 0xff;
    await expect(verifyStream(chunked(damaged), older)).rejects.toBeInstanceOf(SnapshotIntegrityError);
    expect((await listDir(dir)).sort()).toEqual(['pages.img', 'restored.img']);
  });

  it('rejects the valid stream of another file of the same shape (swapped objects)', async () => {
    const other = Buffer.from(content);
    other[100] = (other[100] ?? 0) ^ 1;
    await writeFile(join(dir, 'other.img'), other);
    const { bytes, entry: otherEntry } = await encodeToBuffer(join(dir, 'other.img'));
    const withSameSize = {
      ...entry,
      frames: otherEntry.frames,
      compressedSize: bytes.length,
      compressedCrc32: crc32(bytes).toString(16).padStart(8, '0'),
    };
    await expectIntegrity(() => verifyStream(chunked(bytes), withSameSize), 'CHECKSUM_MISMATCH', 'pages.img');
  });

  it('rejects sizes and extents that disagree with the manifest', async () => {
    // Frames must add up to the sizes and extents, so an entry that disagrees with its frames is refused
    // before reading; without frames (older snapshots) the stream itself shows the disagreement.
    const withFrames = entry;
    await expect(verifyStream(chunked(stream), { ...withFrames, compressedSize: 1 })).rejects.toThrow(
      /frames: compressed sizes add up to/,
    );
    entry = { ...entry, frames: undefined };
    await expectIntegrity(
      () => verifyStream(chunked(stream), { ...entry, rawSize: entry.rawSize + 1 }),
      'SIZE_MISMATCH',
      'pages.img',
    );
    await expectIntegrity(
      () => verifyStream(chunked(stream), { ...entry, compressedSize: entry.compressedSize + 10 }),
      'TRUNCATED',
      'pages.img',
    );
    const [first, ...rest] = entry.extents;
    const shifted = [{ offset: first?.offset ?? 0, length: (first?.length ?? 0) - 1 }, ...rest];
    await expectIntegrity(
      () => verifyStream(chunked(stream), { ...entry, extents: shifted }),
      'EXTENT_MISMATCH',
      'pages.img',
    );
  });

  it('rejects bytes appended after the frame', async () => {
    await expectIntegrity(
      () => verifyStream(chunked(Buffer.concat([stream, Buffer.from('junk')])), entry),
      'CORRUPT_STREAM',
      'pages.img',
    );
    // A second valid zstd frame carries payload after the end marker.
    const extra: Buffer[] = [];
    for await (const chunk of compressZstd(Readable.from([Buffer.from('more')]))) extra.push(chunk);
    await expectIntegrity(
      () => verifyStream(chunked(Buffer.concat([stream, ...extra])), entry),
      'CORRUPT_STREAM',
      'pages.img',
    );
  });

  it('releases the source when the destination directory does not exist', async () => {
    const source = createReadStream(join(dir, 'pages.img'));
    await expect(decodeToFile(source, entry, join(dir, 'missing', 'pages.img'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(source.destroyed).toBe(true);
  });

  it('rejects a malformed entry before reading the stream', async () => {
    await expect(verifyStream(chunked(stream), { ...entry, name: '../escape' })).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
      message: 'invalid manifest: name: must not contain . or .. segments',
    });
  });
});

describe('frames decoded on worker threads', () => {
  /** 4 KiB blocks, reads and frames: a small file of many frames. */
  const SMALL = { holeBlockSize: 4 * KiB, readChunkSize: 4 * KiB, frameSize: 4 * KiB } as const;
  let content: Buffer;
  let stream: Buffer;
  let entry: SnapshotFileEntry;

  beforeEach(async () => {
    content = Buffer.concat([
      text(8 * KiB, 3),
      Buffer.alloc(12 * KiB),
      randomBytes(3 * KiB),
      text(5 * KiB + 7, 4),
    ]);
    await writeFile(join(dir, 'pages.img'), content);
    ({ bytes: stream, entry } = await encodeToBuffer(join(dir, 'pages.img'), SMALL));
  });

  const decode = (bytes: Buffer, e: SnapshotFileEntry = entry, chunkSize?: number) =>
    decodeToFile(chunked(bytes, chunkSize), e, join(dir, 'restored.img'), { threads: 2, fsync: false });

  it('splits the payload into frames of whole records that add up to the object', () => {
    const frames = entry.frames ?? [];
    expect(frames.length).toBeGreaterThanOrEqual(5);
    expect(12 + frames.reduce((sum, f) => sum + f.compressed, 0)).toBe(stream.length);
    // Each frame but the last closes at the first record boundary past 4 KiB of payload.
    for (const frame of frames.slice(0, -1)) expect(frame.payload).toBeGreaterThanOrEqual(4 * KiB);
  });

  it.each([1, 2, 3])('restores byte for byte, holes included, with %s thread(s)', async (threads) => {
    const result = await decodeToFile(chunked(stream, 1000), entry, join(dir, 'restored.img'), { threads });
    expect(result).toEqual({
      name: 'pages.img',
      rawSize: content.length,
      dataBytes: content.length - 12 * KiB,
      compressedSize: stream.length,
    });
    expect((await readFile(join(dir, 'restored.img'))).equals(content)).toBe(true);
    expect((await stat(join(dir, 'restored.img'))).blocks * 512).toBeLessThan(content.length);
  });

  it('restores a large file of many frames through disk-backed streams', async () => {
    await writeMixed(join(dir, 'big.img'), 24 * MiB);
    const encoded = encodeFile(join(dir, 'big.img'), { frameSize: MiB });
    await pipeline(encoded.stream, createWriteStream(join(dir, 'big.zstd')));
    const big = await encoded.entry;
    expect(big.frames?.length).toBeGreaterThan(10);
    await decodeToFile(createReadStream(join(dir, 'big.zstd')), big, join(dir, 'big.out'), { threads: 2 });
    expect(await fileSha256(join(dir, 'big.out'))).toBe(await fileSha256(join(dir, 'big.img')));
  });

  it('is read by a decoder that streams the object as one (older readers, verifyStream)', async () => {
    await expect(verifyStream(chunked(stream), entry)).resolves.toMatchObject({ rawSize: content.length });
    await decodeToFile(chunked(stream), entry, join(dir, 'restored.img'), { threads: 1 });
    expect((await readFile(join(dir, 'restored.img'))).equals(content)).toBe(true);
  });

  it('detects a flipped byte at every position and leaves nothing behind', async () => {
    await writeFile(join(dir, 'restored.img'), 'previous content');
    const missed: number[] = [];
    for (let position = 0; position < stream.length; position++) {
      const damaged = Buffer.from(stream);
      damaged[position] = (damaged[position] ?? 0) ^ 0x5a;
      const ok = await decode(damaged, entry, 1024).then(
        () => true,
        (e: unknown) => !(e instanceof SnapshotIntegrityError),
      );
      if (ok) missed.push(position);
    }
    expect(missed).toEqual([]);
    expect((await listDir(dir)).sort()).toEqual(['pages.img', 'restored.img']);
    expect(await readFile(join(dir, 'restored.img'), 'utf8')).toBe('previous content');
  }, 120_000);

  it('reports a stream cut inside or between frames as TRUNCATED', async () => {
    const firstFrameEnd = 12 + (entry.frames?.[0]?.compressed ?? 0);
    for (const length of [5, 12, firstFrameEnd - 1, firstFrameEnd, stream.length - 1]) {
      await expectIntegrity(() => decode(stream.subarray(0, length)), 'TRUNCATED', 'pages.img');
    }
    expect(await listDir(dir)).toEqual(['pages.img']);
  });

  it('rejects bytes after the last frame', async () => {
    const longer = Buffer.concat([stream, Buffer.from('x')]);
    await expectIntegrity(() => decode(longer), 'SIZE_MISMATCH', 'pages.img');
  });

  it('rejects frame sizes that add up but cut the object elsewhere', async () => {
    const frames = [...(entry.frames ?? [])];
    const [a, b] = frames;
    if (a === undefined || b === undefined) throw new Error('expected two frames');
    // Move one compressed byte from the first frame to the second: sums unchanged, boundary wrong.
    frames[0] = { ...a, compressed: a.compressed - 1 };
    frames[1] = { ...b, compressed: b.compressed + 1 };
    await expectIntegrity(() => decode(stream, { ...entry, frames }), 'CORRUPT_STREAM', 'pages.img');
    frames[0] = { ...a, compressed: a.compressed + 1 };
    frames[1] = { ...b, compressed: b.compressed - 1 };
    await expectIntegrity(() => decode(stream, { ...entry, frames }), 'CORRUPT_STREAM', 'pages.img');
    // Swap two payload sizes that differ: each frame decodes to a size the manifest does not say.
    const different = frames.findIndex((f, i) => i > 0 && f.payload !== a.payload);
    const swapped = [...(entry.frames ?? [])];
    const other = swapped[different];
    if (other === undefined) throw new Error('expected frames of different payload sizes');
    swapped[0] = { ...a, payload: other.payload };
    swapped[different] = { ...other, payload: a.payload };
    await expectIntegrity(() => decode(stream, { ...entry, frames: swapped }), 'CORRUPT_STREAM', 'pages.img');
    expect(await listDir(dir)).toEqual(['pages.img']);
  });

  it('rejects the frames of another file of the same shape by its digest', async () => {
    const other = Buffer.from(content);
    other[100] = (other[100] ?? 0) ^ 1;
    await writeFile(join(dir, 'other.img'), other);
    const { bytes, entry: otherEntry } = await encodeToBuffer(join(dir, 'other.img'), SMALL);
    const swapped = { ...entry, frames: otherEntry.frames, compressedSize: bytes.length };
    await expectIntegrity(() => decode(bytes, swapped), 'CHECKSUM_MISMATCH', 'pages.img');
  });

  it('ends idle decode workers and drops the spare frame buffers, so a daemon does not keep them', async () => {
    const idleMs = framePool.idleMs;
    try {
      framePool.idleMs = 60_000;
      await decode(stream);
      expect(framePool.alive).toBeGreaterThan(0);
      framePool.idleMs = 50; // applies from the workers' next idle spell
      await decode(stream);
      expect(framePool.spareBuffers).toBeGreaterThan(0);
      for (let i = 0; i < 200 && framePool.alive > 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(framePool.alive).toBe(0);
      expect(framePool.spareBuffers).toBe(0);
      await decode(stream); // a new decode starts workers again
      expect((await readFile(join(dir, 'restored.img'))).equals(content)).toBe(true);
    } finally {
      framePool.idleMs = idleMs;
    }
  });

  it('decodes on workers only objects of several frames of at most 72 MiB, and only with threads', () => {
    const frame = (mib: number) => ({ compressed: mib * MiB, payload: mib * MiB });
    expect(framesWorthDecodingApart([frame(16), frame(16)], 2)).toBe(true);
    expect(framesWorthDecodingApart([frame(16), frame(16)], 1)).toBe(false);
    expect(framesWorthDecodingApart([frame(16)], 4)).toBe(false);
    expect(framesWorthDecodingApart(undefined, 4)).toBe(false);
    expect(framesWorthDecodingApart([frame(16), frame(65)], 2)).toBe(true); // frameSize 64 MiB + a record
    expect(framesWorthDecodingApart([frame(16), frame(73)], 2)).toBe(false);
  });

  it('refuses a thread count it cannot use, before reading or writing anything', async () => {
    for (const threads of [0, 1.5, 17, Infinity]) {
      await expect(
        decodeToFile(chunked(stream), entry, join(dir, 'restored.img'), { threads }),
      ).rejects.toThrow(/decode threads must be an integer from 1 to 16/);
    }
    expect(await listDir(dir)).toEqual(['pages.img']);
  });

  it('refuses a frame size below the read size', () => {
    expect(() => encodeFile(join(dir, 'pages.img'), { frameSize: 1000 })).toThrow(
      /frameSize must be an integer of at least readChunkSize/,
    );
  });
});

describe('encoder errors', () => {
  it('refuses a directory with NOT_A_REGULAR_FILE', async () => {
    await mkdir(join(dir, 'sub'));
    const encoded = encodeFile(join(dir, 'sub'));
    const entry = expect(encoded.entry).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE' });
    await expect(
      pipeline(encoded.stream, async (src: AsyncIterable<unknown>) => {
        for await (const _ of src) {
          // drain
        }
      }),
    ).rejects.toMatchObject({ code: 'NOT_A_REGULAR_FILE' });
    await entry;
  });

  it('refuses a bad manifest name at once with INVALID_FILE_NAME', () => {
    expect(() => encodeFile(join(dir, 'x'), { name: 'a//b' })).toThrow(
      expect.objectContaining({ code: 'INVALID_FILE_NAME' }),
    );
  });

  it('rejects the entry with ENCODE_ABORTED when the stream is destroyed early', async () => {
    await writeFile(join(dir, 'big'), randomBytes(4 * MiB));
    const encoded = encodeFile(join(dir, 'big'));
    for await (const _ of encoded.stream) break; // destroys the stream after the first chunk
    await expect(encoded.entry).rejects.toMatchObject({ code: 'ENCODE_ABORTED' });
  });
});

describe('zstd stream helpers', () => {
  it('round-trips through stream.pipeline and never yields more than one output slice (512 KiB)', async () => {
    const input = Buffer.concat([Buffer.alloc(16 * MiB), text(MiB)]);
    const compressed: Buffer[] = [];
    await pipeline(
      chunked(input, 256 * KiB),
      (src: AsyncIterable<Uint8Array>) => compressZstd(src, { level: 3 }),
      async (src: AsyncIterable<Buffer>) => {
        for await (const chunk of src) compressed.push(chunk);
      },
    );
    const all = Buffer.concat(compressed);
    expect(all.length).toBeLessThan(input.length / 50);

    let largest = 0;
    const out: Buffer[] = [];
    for await (const chunk of decompressZstd(chunked(all, all.length))) {
      largest = Math.max(largest, chunk.length);
      out.push(chunk);
    }
    expect(Buffer.concat(out).equals(input)).toBe(true);
    expect(largest).toBeLessThanOrEqual(512 * KiB);
  });

  it('reports a frame cut short', async () => {
    const compressed: Buffer[] = [];
    for await (const chunk of compressZstd(chunked(text(MiB)))) compressed.push(chunk);
    const cut = Buffer.concat(compressed).subarray(0, 100);
    await expect(
      (async () => {
        for await (const _ of decompressZstd(chunked(cut))) {
          // drain
        }
      })(),
    ).rejects.toThrow('input ended inside a zstd frame');
  });
});
