/**
 * Writes deploy/crds/*.yaml from the schema definitions of libs/api.
 * Usage: npx tsx libs/api/scripts/generate-crds.ts [--check]
 * With --check nothing is written; the exit code is 1 when a committed file is out of date.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { renderCrdFiles } from '../src/crd/crd';

const outDir = resolve(__dirname, '../../../deploy/crds');
const check = process.argv.includes('--check');
const files = renderCrdFiles();
const read = (name: string) => {
  try {
    return readFileSync(join(outDir, name), 'utf8');
  } catch {
    return undefined;
  }
};
const stale = [...files].filter(([name, text]) => read(name) !== text).map(([name]) => name);
const extra = readdirSync(outDir, { withFileTypes: true })
  .filter((e) => e.isFile() && !files.has(e.name))
  .map((e) => e.name);

if (check) {
  for (const name of [...stale, ...extra])
    console.error(`${relative(process.cwd(), join(outDir, name))} is out of date`);
  if (stale.length || extra.length) {
    console.error('Run: npx nx run api:generate');
    process.exit(1);
  }
} else {
  mkdirSync(outDir, { recursive: true });
  for (const name of stale) writeFileSync(join(outDir, name), files.get(name) ?? '');
  for (const name of extra) rmSync(join(outDir, name));
  console.log(`deploy/crds: ${files.size} files, ${stale.length} written, ${extra.length} removed`);
}
