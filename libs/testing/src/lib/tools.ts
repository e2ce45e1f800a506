import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** The repository root (this file lives at libs/testing/src/lib). */
export const REPO_ROOT = resolve(__dirname, '../../../..');

/** Where `npm run setup` links the tools it installs or builds. */
export const TOOLS_DIR = join(REPO_ROOT, '.tools');

/** Thrown when a test needs a component the machine does not have. */
export class MissingComponentError extends Error {
  readonly code = 'MISSING_COMPONENT';

  constructor(readonly component: string) {
    super(`${component} is not installed: run \`npm run setup\` (see README.md)`);
    this.name = 'MissingComponentError';
  }
}

interface ToolsManifestEntry {
  path?: string;
  status?: string;
}

function manifestPath(name: string): string | undefined {
  const file = join(TOOLS_DIR, 'tools.json');
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, ToolsManifestEntry | undefined>;
  const path = manifest[name]?.path;
  return path && existsSync(path) ? path : undefined;
}

function onPath(name: string): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']);
  return dirs.map((dir) => join(dir, name)).find((candidate) => existsSync(candidate));
}

/**
 * Finds an executable: the project tools directory first (`.tools/bin`, `.tools/tools.json`), then `PATH`.
 * Returns undefined when absent.
 */
export function findTool(name: string): string | undefined {
  const linked = join(TOOLS_DIR, 'bin', name);
  return existsSync(linked) ? linked : (manifestPath(name) ?? onPath(name));
}

/** Like {@link findTool} but throws {@link MissingComponentError}. */
export function requireTool(name: string): string {
  const path = findTool(name);
  if (path === undefined) throw new MissingComponentError(name);
  return path;
}

/** True when running under CI (`CI=true`), where a missing component fails a test instead of skipping it. */
export function isCI(): boolean {
  return (process.env['CI'] ?? '').toLowerCase() === 'true';
}
