import { createHash, randomBytes } from 'node:crypto';

import { OFFLOAD_MIN_BYTES, Sha256Offload } from './hash-offload';

const MiB = 1024 * 1024;

/** Feeds `data` in pieces of `piece` bytes, as the codec does, and returns the digest. */
async function offloaded(data: Buffer, piece: number): Promise<string> {
  const hash = new Sha256Offload(data.length, 'always');
  for (let i = 0; i < data.length; i += piece) {
    const pending = hash.update(data.subarray(i, i + piece));
    if (pending !== undefined) await pending;
  }
  return hash.digest();
}

const reference = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('Sha256Offload', () => {
  it('equals node:crypto for data that wraps around the ring many times, in any piece size', async () => {
    const data = randomBytes(40 * MiB + 12345);
    for (const piece of [128 * 1024 + 7, MiB, 9 * MiB]) {
      expect(await offloaded(data, piece)).toBe(reference(data));
    }
  });

  it('hashes small inputs inline, empty ones included', async () => {
    for (const size of [0, 1, OFFLOAD_MIN_BYTES - 1]) {
      const data = randomBytes(size);
      expect(await offloaded(data, 64 * 1024)).toBe(reference(data));
    }
  });

  it('reuses workers after cancelled jobs and runs more jobs at once than it has workers', async () => {
    for (let i = 0; i < 20; i++) {
      const hash = new Sha256Offload(OFFLOAD_MIN_BYTES, 'always');
      await hash.update(randomBytes(1000));
      hash.cancel();
      hash.cancel();
    }
    const inputs = Array.from({ length: 10 }, () => randomBytes(OFFLOAD_MIN_BYTES + 100));
    const digests = await Promise.all(inputs.map((data) => offloaded(data, 256 * 1024)));
    expect(digests).toEqual(inputs.map(reference));
  });
});
