// Builds the test images as OCI image layouts: `npx tsx tools/images/src/main.ts [counter|shell|pause|all] [--cache DIR]`.
// Prints one line per image: name, manifest digest, `oci:` reference.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { IMAGE_NAMES, buildImage, type ImageName } from './images';

async function main(argv: readonly string[]): Promise<void> {
  const cacheAt = argv.indexOf('--cache');
  const cacheDir = cacheAt >= 0 ? argv[cacheAt + 1] : undefined;
  const names = argv.filter((arg, i) => !arg.startsWith('--') && (cacheAt < 0 || i !== cacheAt + 1));
  const wanted: readonly string[] = names.length === 0 || names.includes('all') ? IMAGE_NAMES : names;
  for (const name of wanted) {
    if (!(IMAGE_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown image ${JSON.stringify(name)}; known: ${IMAGE_NAMES.join(', ')}`);
    }
    const image = await buildImage(name as ImageName, { cacheDir });
    process.stdout.write(`${image.name} ${image.manifestDigest} ${image.reference}\n`);
  }
}

if (process.env['TSX_TSCONFIG_PATH'] === undefined) {
  // Started from the repository root, where no tsconfig.json maps the `@substrate/*` paths: run again
  // under the same loader with this project's tsconfig.
  const child = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TSX_TSCONFIG_PATH: join(__dirname, '..', 'tsconfig.json') },
  });
  process.exitCode = child.status ?? 1;
} else {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`images: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
