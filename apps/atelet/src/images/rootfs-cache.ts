import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InvalidImageError } from '../errors/atelet-error';
import { parseImageReference } from './image-reference';
import { type ImageRuntimeConfig, type ImageSource, type ResolvedImage } from './image-source';
import { applyLayer } from './layer-apply';

/** An image unpacked into the cache. */
export interface PreparedImage {
  /** `sha256:…` of the manifest. */
  readonly digest: string;
  /** The flattened root filesystem (shared: sandboxes see it through runsc's memory overlay, never write it). */
  readonly rootfs: string;
  readonly config: ImageRuntimeConfig;
  /** True when it was already in the cache. */
  readonly cached: boolean;
  /** Time spent unpacking (0 on a hit). */
  readonly unpackMs: number;
}

interface Entry {
  readonly digest: string;
  readonly dir: string;
  readonly bytes: number;
  readonly config: ImageRuntimeConfig;
  lastUsed: number;
}

interface Meta {
  readonly digest: string;
  readonly bytes: number;
  readonly reference: string;
  readonly config: ImageRuntimeConfig;
}

function decompressorFor(reference: string, mediaType: string): Transform {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip') || mediaType.endsWith('tar.gzip'))
    return createGunzip();
  if (mediaType.endsWith('.tar') || mediaType.endsWith('layer.v1.tar')) return new PassThrough();
  throw new InvalidImageError(reference, `unsupported layer media type ${mediaType} (tar and tar+gzip are)`);
}

/**
 * Unpacked root filesystems keyed by image manifest digest (`<dir>/<hex>/rootfs` with `meta.json`), bounded
 * by size with least-recently-used eviction. Layers are applied in order into a private directory that is
 * renamed into place only when every layer's digest checked out, so the cache never holds a half or tampered
 * rootfs. Entries in use by a worker are pinned and never evicted. Concurrent requests for one image share
 * one unpack.
 */
export class RootfsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Entry>>();
  private readonly pins = new Map<string, readonly string[]>();

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly sources: { readonly layout: ImageSource; readonly registry: ImageSource },
    private readonly arch: string,
  ) {}

  /** Loads the entries a previous process left (their last use is meta.json's mtime); drops partial ones. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    for (const name of await readdir(this.dir)) {
      const dir = join(this.dir, name);
      if (name.startsWith('.')) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      try {
        const metaPath = join(dir, 'meta.json');
        const meta = JSON.parse(await readFile(metaPath, 'utf8')) as Meta;
        const info = await stat(metaPath);
        this.entries.set(meta.digest, {
          digest: meta.digest,
          dir,
          bytes: meta.bytes,
          config: meta.config,
          lastUsed: info.mtimeMs,
        });
      } catch {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }

  /** Bytes held. */
  get totalBytes(): number {
    let sum = 0;
    for (const entry of this.entries.values()) sum += entry.bytes;
    return sum;
  }

  /** Digests held, least recently used first. */
  digests(): string[] {
    return [...this.entries.values()].sort((a, b) => a.lastUsed - b.lastUsed).map((e) => e.digest);
  }

  /** Resolves `reference`, unpacking it unless cached. */
  async prepare(reference: string): Promise<PreparedImage> {
    const parsed = parseImageReference(reference);
    const source = parsed.kind === 'layout' ? this.sources.layout : this.sources.registry;
    const image = await source.resolve(parsed, this.arch);
    const existing = this.entries.get(image.manifestDigest);
    if (existing !== undefined) {
      await this.touch(existing);
      return {
        digest: existing.digest,
        rootfs: join(existing.dir, 'rootfs'),
        config: existing.config,
        cached: true,
        unpackMs: 0,
      };
    }
    const began = performance.now();
    let running = this.inFlight.get(image.manifestDigest);
    if (running === undefined) {
      running = this.unpack(image).finally(() => this.inFlight.delete(image.manifestDigest));
      this.inFlight.set(image.manifestDigest, running);
    }
    const entry = await running;
    return {
      digest: entry.digest,
      rootfs: join(entry.dir, 'rootfs'),
      config: entry.config,
      cached: false,
      unpackMs: performance.now() - began,
    };
  }

  /**
   * Keeps `digests` (the images of every container of a sandbox) from eviction while `owner` (a worker)
   * uses them; replaces the owner's previous pins.
   */
  pin(owner: string, digests: string | readonly string[]): void {
    this.pins.set(owner, typeof digests === 'string' ? [digests] : [...digests]);
  }

  unpin(owner: string): void {
    this.pins.delete(owner);
  }

  private async touch(entry: Entry): Promise<void> {
    entry.lastUsed = Date.now();
    const at = new Date(entry.lastUsed);
    await utimes(join(entry.dir, 'meta.json'), at, at).catch(() => undefined);
  }

  private async unpack(image: ResolvedImage): Promise<Entry> {
    const hex = image.manifestDigest.replace(/^sha256:/, '');
    const work = join(this.dir, `.${hex}-${randomBytes(4).toString('hex')}`);
    const rootfs = join(work, 'rootfs');
    try {
      await mkdir(rootfs, { recursive: true, mode: 0o755 });
      let bytes = 0;
      for (const layer of image.layers) {
        const decompress = decompressorFor(image.reference, layer.mediaType);
        const blob: Readable = await image.openBlob(layer);
        await pipeline(blob, decompress, async (source: AsyncIterable<Buffer>) => {
          const iterator = source[Symbol.asyncIterator]();
          const applied = await applyLayer(rootfs, { [Symbol.asyncIterator]: () => iterator });
          bytes += applied.bytes;
          // Read to the end so the blob's digest is checked even past the tar's end blocks.
          while ((await iterator.next()).done !== true);
        });
      }
      const meta: Meta = {
        digest: image.manifestDigest,
        bytes,
        reference: image.reference,
        config: image.config,
      };
      await writeFile(join(work, 'meta.json'), JSON.stringify(meta));
      const dir = join(this.dir, hex);
      await rm(dir, { recursive: true, force: true });
      await rename(work, dir);
      const entry: Entry = {
        digest: image.manifestDigest,
        dir,
        bytes,
        config: image.config,
        lastUsed: Date.now(),
      };
      this.entries.set(entry.digest, entry);
      await this.evict(entry.digest);
      return entry;
    } catch (error) {
      await rm(work, { recursive: true, force: true });
      throw error;
    }
  }

  /** Removes least recently used entries, never pinned ones nor `keep`, until the cache fits its bound. */
  private async evict(keep: string): Promise<void> {
    const pinned = new Set([...[...this.pins.values()].flat(), keep]);
    let total = this.totalBytes;
    for (const digest of this.digests()) {
      if (total <= this.maxBytes) return;
      const entry = this.entries.get(digest);
      if (entry === undefined || pinned.has(digest)) continue;
      this.entries.delete(digest);
      total -= entry.bytes;
      await rm(entry.dir, { recursive: true, force: true });
    }
  }
}
