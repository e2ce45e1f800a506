import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './tools';

const run = promisify(execFile);
const FIXTURES = join(__dirname, '../../test/fixtures');

/** Runs the fixture suite in a child Jest with the given CI value; returns its exit code and summary. */
async function jestFixture(ci: string): Promise<{ code: number; output: string }> {
  const jest = join(REPO_ROOT, 'node_modules/.bin/jest');
  try {
    const { stdout, stderr } = await run(jest, ['-c', join(FIXTURES, 'jest.config.js'), '--ci'], {
      // Nx sets FORCE_COLOR for its tasks; the summary must be plain text to be matched.
      env: { ...process.env, CI: ci, FORCE_COLOR: '0', NO_COLOR: '1' },
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

describe('describeWithComponents', () => {
  it('fails a suite whose component is missing when CI=true, naming the component and the set-up', async () => {
    const { code, output } = await jestFixture('true');
    expect(code).toBe(1);
    expect(output).toContain(
      'missing substrate-no-such-component: run `npm run setup` before the tests (CI=true)',
    );
    expect(output).toMatch(/Tests:\s+1 failed, 1 total/);
  });

  it('skips it with a note outside CI', async () => {
    const { code, output } = await jestFixture('false');
    expect(code).toBe(0);
    expect(output).toMatch(/Tests:\s+1 skipped, 1 total/);
  });
});
