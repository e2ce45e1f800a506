import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './process';
import { MissingComponentError, findTool, isCI, requireTool } from './tools';

describe('tool lookup', () => {
  const originalPath = process.env['PATH'];
  const originalCI = process.env['CI'];
  afterEach(() => {
    process.env['PATH'] = originalPath;
    process.env['CI'] = originalCI;
  });

  it('finds an executable on PATH and reports a missing one with the set-up command', () => {
    const dir = tempDir('tools');
    mkdirSync(join(dir.path, 'bin'));
    const exe = join(dir.path, 'bin', 'substrate-test-tool');
    writeFileSync(exe, '#!/bin/sh\n');
    chmodSync(exe, 0o755);
    process.env['PATH'] = join(dir.path, 'bin');
    expect(findTool('substrate-test-tool')).toBe(exe);
    expect(findTool('substrate-no-such-tool')).toBeUndefined();
    expect(() => requireTool('substrate-no-such-tool')).toThrow(
      new MissingComponentError('substrate-no-such-tool'),
    );
    expect(() => requireTool('substrate-no-such-tool')).toThrow(
      'substrate-no-such-tool is not installed: run `npm run setup` (see README.md)',
    );
    dir.remove();
  });

  it('reads CI=true case-insensitively', () => {
    process.env['CI'] = 'TRUE';
    expect(isCI()).toBe(true);
    process.env['CI'] = '';
    expect(isCI()).toBe(false);
  });
});
