import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@substrate/testing';
import { RuntimeBinaries, pinnedSha256 } from './runtime-binary';

describe('runtime binaries', () => {
  let tmp: { path: string; remove: () => void };
  beforeAll(() => (tmp = tempDir('ateom-runtime')));
  afterAll(() => tmp.remove());

  const sha = (text: string) => createHash('sha256').update(text).digest('hex');

  it('accepts a content-addressed binary whose content has its sha256', async () => {
    const path = join(tmp.path, `runsc-${sha('good')}`);
    writeFileSync(path, 'good', { mode: 0o755 });
    await expect(new RuntimeBinaries('runsc').runsc(path)).resolves.toBe(path);
  });

  it('refuses a binary whose sha256 does not match its name, naming both digests', async () => {
    const pinned = sha('expected');
    const path = join(tmp.path, `runsc-${pinned}`);
    writeFileSync(path, 'tampered', { mode: 0o755 });
    await expect(new RuntimeBinaries('runsc').runsc(path)).rejects.toMatchObject({
      code: 'RUNTIME_MISMATCH',
      message: `refusing runtime binary ${path}: its sha256 is ${sha('tampered')}, expected ${pinned}`,
    });
  });

  it('notices a binary changed after it was verified', async () => {
    const path = join(tmp.path, `runsc-${sha('v1')}`);
    writeFileSync(path, 'v1');
    const binaries = new RuntimeBinaries('runsc');
    await binaries.runsc(path);
    writeFileSync(path, 'v2-longer');
    await expect(binaries.runsc(path)).rejects.toMatchObject({ code: 'RUNTIME_MISMATCH' });
  });

  it('refuses a path that is not content-addressed, and a missing binary', async () => {
    await expect(new RuntimeBinaries('runsc').runsc('/usr/bin/runsc')).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      field: 'runsc_path',
    });
    await expect(
      new RuntimeBinaries('runsc').runsc(join(tmp.path, `runsc-${sha('none')}`)),
    ).rejects.toMatchObject({
      code: 'MISSING_INPUT',
    });
  });

  it('uses the configured binary when the request names none', async () => {
    await expect(new RuntimeBinaries('/opt/runsc').runsc('')).resolves.toBe('/opt/runsc');
    expect(pinnedSha256(`/x/runsc-${'f'.repeat(64)}`)).toBe('f'.repeat(64));
    expect(pinnedSha256('/x/runsc')).toBeUndefined();
  });
});
