import { findTool, isCI } from './tools';

/**
 * `describe` for a suite that needs real components (executables such as `redis-server` or `runsc`).
 * When one is missing the suite is skipped with a note locally, but under `CI=true` it fails: CI must never
 * pass by skipping.
 */
export function describeWithComponents(components: readonly string[], name: string, body: () => void): void {
  const missing = components.filter((c) => findTool(c) === undefined);
  if (missing.length === 0) {
    describe(name, body);
  } else if (isCI()) {
    describe(name, () => {
      it(`has its components installed (${components.join(', ')})`, () => {
        throw new Error(`missing ${missing.join(', ')}: run \`npm run setup\` before the tests (CI=true)`);
      });
    });
  } else {
    describe.skip(`${name} [skipped: missing ${missing.join(', ')}; run \`npm run setup\`]`, body);
  }
}
