import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { openObjectStore, type ObjectStoreConfig } from '@substrate/storage';
import { AssetChecksumError, AssetFetchError, NoAssetsForArchError } from '../errors/atelet-error';

/** An asset to fetch: where from, and the sha256 it must hash to. */
export interface AssetFile {
  readonly url: string;
  readonly sha256: string;
}

/** Largest asset atelet downloads (upstream's cap). */
export const MAX_ASSET_BYTES = 8 * 1024 ** 3;

/** Counts and hashes what flows through; fails past `limit` bytes. */
class HashingLimit extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(new Error(`larger than ${this.limit} bytes`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }
}

/** Picks the files of one architecture out of a request's `sandbox_assets`. */
export function assetsForArch(
  assets: {
    readonly assets: Readonly<Record<string, { readonly files: Readonly<Record<string, AssetFile>> }>>;
  },
  arch: string,
): Record<string, AssetFile> {
  const files = assets.assets[arch]?.files;
  if (files === undefined || Object.keys(files).length === 0)
    throw new NoAssetsForArchError(arch, Object.keys(assets.assets));
  return { ...files };
}

/**
 * The sandbox asset cache (`<dir>/<name>-<sha256>`, mode 0755): runsc and friends fetched by URL
 * (`file://`, `http(s)://`, `s3://`, `gs://`), streamed to a temporary file while hashed, verified against
 * the pinned sha256, then renamed into place. A file in the cache was verified when it was written, so a hit
 * returns at once; concurrent requests for the same file share one download.
 */
export class SandboxAssetCache {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    readonly dir: string,
    private readonly storage: ObjectStoreConfig = {},
    private readonly timeoutMs = 300_000,
  ) {}

  /** The cached path of every file (by asset name), fetching what is missing. */
  async ensureAll(files: Readonly<Record<string, AssetFile>>): Promise<Record<string, string>> {
    const entries = await Promise.all(
      Object.entries(files).map(async ([name, file]) => [name, await this.ensure(name, file)] as const),
    );
    return Object.fromEntries(entries);
  }

  /** The cached path of one asset, fetched and verified if missing. */
  ensure(name: string, file: AssetFile): Promise<string> {
    const path = join(this.dir, `${name}-${file.sha256}`);
    if (existsSync(path)) return Promise.resolve(path);
    const running = this.inFlight.get(path);
    if (running !== undefined) return running;
    const fetching = this.fetch(file, path).finally(() => this.inFlight.delete(path));
    this.inFlight.set(path, fetching);
    return fetching;
  }

  private async fetch(file: AssetFile, path: string): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const temp = join(this.dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
    const hashing = new HashingLimit(MAX_ASSET_BYTES);
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const source = await this.open(file.url, signal);
      await pipeline(source, hashing, createWriteStream(temp, { mode: 0o700 }), { signal });
    } catch (error) {
      await rm(temp, { force: true });
      if (error instanceof AssetFetchError) throw error;
      throw new AssetFetchError(file.url, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
    const actual = hashing.hash.digest('hex');
    if (actual !== file.sha256) {
      await rm(temp, { force: true });
      throw new AssetChecksumError(file.url, file.sha256, actual);
    }
    await chmod(temp, 0o755);
    await rename(temp, path);
    return path;
  }

  private async open(url: string, signal: AbortSignal): Promise<Readable> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new AssetFetchError(url, 'not a URL', { cause: error });
    }
    switch (parsed.protocol) {
      case 'file:':
        return createReadStream(fileURLToPath(parsed));
      case 'http:':
      case 'https:': {
        const response = await fetch(parsed, { signal, redirect: 'follow' });
        if (!response.ok || response.body === null) throw new AssetFetchError(url, `HTTP ${response.status}`);
        return Readable.fromWeb(response.body as Parameters<typeof Readable.fromWeb>[0]);
      }
      case 's3:':
      case 'gs:': {
        const slash = url.lastIndexOf('/');
        const store = await openObjectStore(url.slice(0, slash), this.storage);
        try {
          const body = await store.get(url.slice(slash + 1));
          body.once('close', () => void store.close());
          return body;
        } catch (error) {
          await store.close();
          throw error;
        }
      }
      default:
        throw new AssetFetchError(url, `unsupported scheme ${parsed.protocol} (file, http, https, s3, gs)`);
    }
  }
}
