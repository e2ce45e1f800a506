import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { createGzip } from 'node:zlib';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** An OCI content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The runtime defaults recorded in the image config. */
export interface ImageRuntimeConfig {
  readonly entrypoint?: readonly string[];
  readonly cmd?: readonly string[];
  readonly env?: readonly string[];
  readonly workingDir?: string;
  readonly exposedPorts?: readonly number[];
}

export interface OciLayoutSpec {
  /** Root filesystem to pack as the single layer. */
  readonly rootfs: string;
  /** Output directory (created; must not exist or be empty). */
  readonly out: string;
  /** Tag, recorded as `org.opencontainers.image.ref.name` in `index.json`. */
  readonly tag: string;
  readonly config: ImageRuntimeConfig;
  readonly architecture?: string;
}

export interface OciLayout {
  readonly dir: string;
  readonly tag: string;
  readonly manifest: Descriptor;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  /** `sha256:` digests of the uncompressed layers (the config's `rootfs.diff_ids`). */
  readonly diffIds: readonly string[];
}

/**
 * GNU tar flags that make a layer depend only on the files' names, contents, modes and types: sorted
 * entries, every time set to the epoch, owner root, no atime/ctime pax records.
 */
export const REPRODUCIBLE_TAR_FLAGS = [
  '--sort=name',
  '--mtime=@0',
  '--owner=0',
  '--group=0',
  '--numeric-owner',
  '--format=posix',
  '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
] as const;

/** A pass-through stream that hashes what flows through it (sha256) and counts the bytes. */
class Digester extends Transform {
  private readonly hash = createHash('sha256');
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

function goArch(arch = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch;
}

async function writeBlob(dir: string, content: string, mediaType: string): Promise<Descriptor> {
  const bytes = Buffer.from(content, 'utf8');
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(dir, 'blobs', 'sha256', hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

/**
 * Packs `rootfs` with GNU tar (reproducible flags) into one gzip layer, streaming: the uncompressed tar is
 * hashed for the diff_id, the gzip output for the blob digest. Returns the layer descriptor and diff_id.
 */
export async function writeLayer(
  layoutDir: string,
  rootfs: string,
  tar = 'tar',
): Promise<{ layer: Descriptor; diffId: string }> {
  const temp = join(layoutDir, 'blobs', 'sha256', `.layer-${process.pid}.tmp`);
  const child = spawn(tar, [...REPRODUCIBLE_TAR_FLAGS, '-C', rootfs, '-cf', '-', '.'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const uncompressed = new Digester();
  const compressed = new Digester();
  // Node's gzip header carries no file name and mtime 0, so equal input gives equal bytes.
  const written = pipeline(
    child.stdout,
    uncompressed,
    createGzip({ level: 6 }),
    compressed,
    createWriteStream(temp),
  );
  const [piped, code] = await Promise.all([
    written.then(
      () => undefined,
      (error: unknown) => error,
    ),
    exited,
  ]);
  if (code !== 0 || piped !== undefined) {
    await rm(temp, { force: true });
    throw new Error(`tar of ${rootfs} failed (exit ${String(code)}): ${stderr.trim()}`, { cause: piped });
  }
  const digest = compressed.digest();
  await rename(temp, join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
  return {
    layer: { mediaType: MEDIA_TYPES.layer, digest, size: compressed.size },
    diffId: uncompressed.digest(),
  };
}

/**
 * Writes an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) with one image: a single
 * tar+gzip layer of `rootfs`, the image config and the manifest, all addressed by sha256.
 */
export async function writeOciLayout(spec: OciLayoutSpec, tar = 'tar'): Promise<OciLayout> {
  const { out } = spec;
  await mkdir(join(out, 'blobs', 'sha256'), { recursive: true });
  const { layer, diffId } = await writeLayer(out, spec.rootfs, tar);
  const runtime = spec.config;
  const imageConfig = {
    created: '1970-01-01T00:00:00Z',
    architecture: spec.architecture ?? goArch(),
    os: 'linux',
    config: {
      ...(runtime.entrypoint && { Entrypoint: [...runtime.entrypoint] }),
      ...(runtime.cmd && { Cmd: [...runtime.cmd] }),
      Env: [...(runtime.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'])],
      WorkingDir: runtime.workingDir ?? '/',
      ...(runtime.exposedPorts && {
        ExposedPorts: Object.fromEntries(runtime.exposedPorts.map((port) => [`${port}/tcp`, {}])),
      }),
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'substrate tools/images' }],
  };
  const config = await writeBlob(out, JSON.stringify(imageConfig), MEDIA_TYPES.config);
  const manifestJson = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config,
    layers: [layer],
  };
  const manifest = await writeBlob(out, JSON.stringify(manifestJson), MEDIA_TYPES.manifest);
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': spec.tag } }],
  };
  await writeFile(join(out, 'index.json'), JSON.stringify(index));
  await writeFile(join(out, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { dir: out, tag: spec.tag, manifest, config, layers: [layer], diffIds: [diffId] };
}
