import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { InvalidSpecError, MissingInputError } from '../sandbox';

/** What ateom takes from the bundle atelet prepared: the process and the root filesystem. */
export interface PreparedBundle {
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  /** Absolute host path of the rootfs. */
  readonly rootfs: string;
}

function strings(what: string, value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw new InvalidSpecError(`${what} must be a list of strings`);
  }
  return value;
}

/**
 * Reads `<bundleDir>/config.json` as atelet (or `umoci unpack`) wrote it and keeps only
 * `process.args`, `process.env`, `process.cwd` and `root.path`. Everything else of the sandbox's spec
 * (namespaces, mounts, the identity file, durable dirs) is ateom's own, so a bundle cannot widen what
 * the sandbox sees.
 */
export async function readPreparedBundle(bundleDir: string): Promise<PreparedBundle> {
  const configPath = join(bundleDir, 'config.json');
  const text = await readFile(configPath, 'utf8').catch((error: unknown) => {
    throw new MissingInputError('bundle config.json', configPath, { cause: error });
  });
  let config: { process?: { args?: unknown; env?: unknown; cwd?: unknown }; root?: { path?: unknown } };
  try {
    config = JSON.parse(text) as typeof config;
  } catch (error) {
    throw new InvalidSpecError(`${configPath} is not JSON: ${(error as Error).message}`);
  }
  const args = strings(`${configPath} process.args`, config.process?.args);
  if (args.length === 0) throw new InvalidSpecError(`${configPath} process.args is empty`);
  const env =
    config.process?.env === undefined ? [] : strings(`${configPath} process.env`, config.process.env);
  const cwd = typeof config.process?.cwd === 'string' && config.process.cwd !== '' ? config.process.cwd : '/';
  const rootPath = typeof config.root?.path === 'string' ? config.root.path : 'rootfs';
  const rootfs = isAbsolute(rootPath) ? rootPath : resolve(bundleDir, rootPath);
  const info = await stat(rootfs).catch((error: unknown) => {
    throw new MissingInputError('bundle rootfs', rootfs, { cause: error });
  });
  if (!info.isDirectory()) throw new MissingInputError('bundle rootfs (a directory)', rootfs);
  return { args, env, cwd, rootfs };
}
