// The only module of this library that touches the file system.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type SubstrateObject } from '../v1alpha1/kinds';
import { type ParseOptions, parseManifests } from './parse';

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/**
 * Reads and parses one manifest file (YAML stream or JSON).
 *
 * @throws {ManifestSyntaxError} @throws {ValidationError} with the file name in the message.
 */
export async function loadManifestFile(
  path: string,
  options: Omit<ParseOptions, 'file'> = {},
): Promise<SubstrateObject[]> {
  return parseManifests(await readFile(path, 'utf8'), { ...options, file: path });
}

/**
 * Reads every `*.yaml`, `*.yml` and `*.json` file of a directory (sorted by name; subdirectories
 * when `recursive`) and returns their objects in that order.
 *
 * @throws {ManifestSyntaxError} @throws {ValidationError} for the first bad file.
 */
export async function loadManifestDir(
  dir: string,
  options: Omit<ParseOptions, 'file'> & { readonly recursive?: boolean } = {},
): Promise<SubstrateObject[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: SubstrateObject[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && options.recursive) out.push(...(await loadManifestDir(path, options)));
    else if (entry.isFile() && MANIFEST_FILE.test(entry.name))
      out.push(...(await loadManifestFile(path, options)));
  }
  return out;
}
