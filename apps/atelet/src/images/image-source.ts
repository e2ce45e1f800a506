import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { ImageNotFoundError, InvalidImageError, LayerDigestMismatchError } from '../errors/atelet-error';
import { formatImageReference, type ImageReference } from './image-reference';

/** An OCI content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly architecture?: string; readonly os?: string };
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The runtime defaults of an image config (`config` of the OCI image config). */
export interface ImageRuntimeConfig {
  readonly Entrypoint?: readonly string[] | null;
  readonly Cmd?: readonly string[] | null;
  readonly Env?: readonly string[] | null;
  readonly WorkingDir?: string;
  readonly User?: string;
}

/** An image resolved to one platform's manifest. */
export interface ResolvedImage {
  readonly reference: string;
  /** `sha256:…` of the image manifest: the rootfs cache key. */
  readonly manifestDigest: string;
  readonly layers: readonly Descriptor[];
  readonly config: ImageRuntimeConfig;
  /** The blob's bytes, checked against its digest and size as they stream (a mismatch errors the stream). */
  openBlob(descriptor: Descriptor): Promise<Readable>;
}

/** Somewhere images come from. */
export interface ImageSource {
  resolve(reference: ImageReference, arch: string): Promise<ResolvedImage>;
}

const INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** Passes bytes through while hashing them; errors at the end when the digest or size is not the expected one. */
export class DigestVerifier extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(
    private readonly expected: string,
    private readonly size?: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (actual !== this.expected) callback(new LayerDigestMismatchError(this.expected, actual));
    else if (this.size !== undefined && this.size !== this.bytes) {
      callback(
        new LayerDigestMismatchError(
          this.expected,
          `${actual} (${this.bytes} bytes, descriptor says ${this.size})`,
        ),
      );
    } else callback();
  }
}

function verifyBytes(bytes: Buffer, digest: string): void {
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== digest) throw new LayerDigestMismatchError(digest, actual);
}

function parseJson<T>(reference: string, what: string, bytes: Buffer): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (error) {
    throw new InvalidImageError(reference, `${what} is not JSON`, { cause: error });
  }
}

function blobHex(reference: string, digest: string): string {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (match?.[1] === undefined)
    throw new InvalidImageError(reference, `unsupported digest ${JSON.stringify(digest)}`);
  return match[1];
}

/** Chooses this architecture's manifest from an index. */
function pickPlatform(reference: string, manifests: readonly Descriptor[], arch: string): Descriptor {
  const candidates = manifests.filter((m) => MANIFEST_TYPES.includes(m.mediaType));
  const match =
    candidates.find((m) => m.platform?.architecture === arch && (m.platform.os ?? 'linux') === 'linux') ??
    (candidates.length === 1 && candidates[0]?.platform === undefined ? candidates[0] : undefined);
  if (match === undefined) throw new ImageNotFoundError(reference, `no manifest for linux/${arch}`);
  return match;
}

/** Reads a manifest and its config into a {@link ResolvedImage} through `fetchBlob`. */
async function resolveManifest(
  reference: string,
  manifestDigest: string,
  manifestBytes: Buffer,
  fetchBlob: (descriptor: Descriptor) => Promise<Buffer>,
  openBlob: (descriptor: Descriptor) => Promise<Readable>,
): Promise<ResolvedImage> {
  const manifest = parseJson<{ config?: Descriptor; layers?: Descriptor[] }>(
    reference,
    'the manifest',
    manifestBytes,
  );
  if (manifest.config === undefined || !Array.isArray(manifest.layers)) {
    throw new InvalidImageError(reference, 'the manifest has no config or layers');
  }
  const configBytes = await fetchBlob(manifest.config);
  verifyBytes(configBytes, manifest.config.digest);
  const config = parseJson<{ config?: ImageRuntimeConfig }>(reference, 'the image config', configBytes);
  return { reference, manifestDigest, layers: manifest.layers, config: config.config ?? {}, openBlob };
}

/** Images in OCI image layout directories on the node (`oci:<dir>:<tag>`, `oci:<dir>@sha256:…`). */
export class OciLayoutSource implements ImageSource {
  async resolve(reference: ImageReference, arch: string): Promise<ResolvedImage> {
    if (reference.kind !== 'layout') throw new Error('OciLayoutSource resolves oci: references only');
    const name = formatImageReference(reference);
    const blobPath = (digest: string) => join(reference.dir, 'blobs', 'sha256', blobHex(name, digest));
    const readBlob = async (descriptor: Descriptor): Promise<Buffer> => {
      try {
        return await readFile(blobPath(descriptor.digest));
      } catch (error) {
        throw new ImageNotFoundError(name, `blob ${descriptor.digest} missing`, { cause: error });
      }
    };
    const openBlob = (descriptor: Descriptor): Promise<Readable> => {
      const path = blobPath(descriptor.digest);
      return new Promise((resolve, reject) => {
        const stream = createReadStream(path);
        stream.once('open', () =>
          resolve(stream.pipe(new DigestVerifier(descriptor.digest, descriptor.size))),
        );
        stream.once('error', (error) =>
          reject(new ImageNotFoundError(name, `blob ${descriptor.digest} missing`, { cause: error })),
        );
      });
    };
    let indexBytes: Buffer;
    try {
      indexBytes = await readFile(join(reference.dir, 'index.json'));
    } catch (error) {
      throw new ImageNotFoundError(name, 'no index.json in the layout directory', { cause: error });
    }
    const index = parseJson<{ manifests?: Descriptor[] }>(name, 'index.json', indexBytes);
    const entries = index.manifests ?? [];
    let chosen: Descriptor | undefined;
    if (reference.digest !== undefined) {
      chosen = entries.find((m) => m.digest === reference.digest) ?? {
        mediaType: MANIFEST_TYPES[0] as string,
        digest: reference.digest,
        size: -1,
      };
    } else if (reference.tag !== undefined) {
      chosen = entries.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === reference.tag);
      if (chosen === undefined)
        throw new ImageNotFoundError(name, `no image tagged ${JSON.stringify(reference.tag)} in index.json`);
    } else {
      if (entries.length !== 1)
        throw new ImageNotFoundError(
          name,
          `index.json lists ${entries.length} images; name one by tag or digest`,
        );
      chosen = entries[0];
    }
    if (chosen === undefined) throw new ImageNotFoundError(name, 'no manifest');
    let bytes = await readBlob(chosen);
    verifyBytes(bytes, chosen.digest);
    let digest = chosen.digest;
    const parsed = parseJson<{ mediaType?: string; manifests?: Descriptor[] }>(name, 'the manifest', bytes);
    if (
      INDEX_TYPES.includes(chosen.mediaType) ||
      (parsed.mediaType !== undefined && INDEX_TYPES.includes(parsed.mediaType))
    ) {
      const platform = pickPlatform(name, parsed.manifests ?? [], arch);
      bytes = await readBlob(platform);
      verifyBytes(bytes, platform.digest);
      digest = platform.digest;
    }
    return resolveManifest(name, digest, bytes, readBlob, openBlob);
  }
}

/** A bearer challenge of a registry (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`). */
export function parseBearerChallenge(header: string): Record<string, string> | undefined {
  if (!/^bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const match of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) {
    if (match[1] !== undefined && match[2] !== undefined) params[match[1]] = match[2];
  }
  return params;
}

/**
 * Images from a registry through the Registry HTTP API v2, with the token flow: a 401 with a Bearer challenge
 * is answered by fetching a token from the realm (anonymous, or with `credentials` as basic auth) and retrying;
 * a Basic challenge is answered with the credentials directly.
 * Loopback registries are spoken to over plain HTTP. Every request has a deadline.
 */
export class RegistrySource implements ImageSource {
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly options: {
      readonly timeoutMs?: number;
      readonly credentials?: (registry: string) => { username: string; password: string } | undefined;
    } = {},
  ) {}

  async resolve(reference: ImageReference, arch: string): Promise<ResolvedImage> {
    if (reference.kind !== 'registry') throw new Error('RegistrySource resolves registry references only');
    const name = formatImageReference(reference);
    const base = `${this.scheme(reference.registry)}://${reference.registry}/v2/${reference.repository}`;
    const accept = [...INDEX_TYPES, ...MANIFEST_TYPES].join(', ');
    const getManifest = async (
      ref: string,
    ): Promise<{ bytes: Buffer; mediaType: string; digest: string }> => {
      const response = await this.get(reference.registry, reference.repository, `${base}/manifests/${ref}`, {
        accept,
      });
      if (response.status === 404) throw new ImageNotFoundError(name, `manifest ${ref} not found`);
      if (!response.ok) throw new ImageNotFoundError(name, `manifest ${ref}: HTTP ${response.status}`);
      const bytes = Buffer.from(await response.arrayBuffer());
      const digest = ref.startsWith('sha256:')
        ? ref
        : `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      verifyBytes(bytes, digest);
      const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
      return { bytes, mediaType, digest };
    };
    let manifest = await getManifest(reference.digest ?? reference.tag ?? 'latest');
    const parsed = parseJson<{ mediaType?: string; manifests?: Descriptor[] }>(
      name,
      'the manifest',
      manifest.bytes,
    );
    if (
      INDEX_TYPES.includes(manifest.mediaType) ||
      (parsed.mediaType !== undefined && INDEX_TYPES.includes(parsed.mediaType))
    ) {
      manifest = await getManifest(pickPlatform(name, parsed.manifests ?? [], arch).digest);
    }
    const openBlob = async (descriptor: Descriptor): Promise<Readable> => {
      const response = await this.get(
        reference.registry,
        reference.repository,
        `${base}/blobs/${descriptor.digest}`,
        {},
        false,
      );
      if (!response.ok || response.body === null)
        throw new ImageNotFoundError(name, `blob ${descriptor.digest}: HTTP ${response.status}`);
      return Readable.fromWeb(response.body as Parameters<typeof Readable.fromWeb>[0]).pipe(
        new DigestVerifier(descriptor.digest, descriptor.size),
      );
    };
    const fetchBlob = async (descriptor: Descriptor): Promise<Buffer> => {
      const response = await this.get(
        reference.registry,
        reference.repository,
        `${base}/blobs/${descriptor.digest}`,
      );
      if (!response.ok)
        throw new ImageNotFoundError(name, `blob ${descriptor.digest}: HTTP ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    };
    return resolveManifest(name, manifest.digest, manifest.bytes, fetchBlob, openBlob);
  }

  private scheme(registry: string): 'http' | 'https' {
    const host = registry.replace(/:\d+$/, '');
    return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' ? 'http' : 'https';
  }

  private async get(
    registry: string,
    repository: string,
    url: string,
    headers: Record<string, string> = {},
    bounded = true,
  ): Promise<Response> {
    const timeout = this.options.timeoutMs ?? 60_000;
    const key = `${registry}/${repository}`;
    const send = (token: string | undefined) =>
      fetch(url, {
        headers: { ...headers, ...(token !== undefined && { authorization: `Bearer ${token}` }) },
        redirect: 'follow',
        // Blob bodies stream for as long as they need; only the answer's start is bounded then.
        signal: bounded ? AbortSignal.timeout(timeout) : AbortSignal.timeout(timeout * 10),
      });
    let response = await send(this.tokens.get(key));
    if (response.status !== 401) return response;
    const header = response.headers.get('www-authenticate') ?? '';
    const credentials = this.options.credentials?.(registry);
    if (/^basic\b/i.test(header) && credentials !== undefined) {
      // A registry with plain basic auth (no token service).
      this.tokens.delete(key);
      return fetch(url, {
        headers: {
          ...headers,
          authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
        },
        redirect: 'follow',
        signal: AbortSignal.timeout(bounded ? timeout : timeout * 10),
      });
    }
    const challenge = parseBearerChallenge(header);
    if (challenge?.['realm'] === undefined) return response;
    const tokenUrl = new URL(challenge['realm']);
    if (challenge['service'] !== undefined) tokenUrl.searchParams.set('service', challenge['service']);
    tokenUrl.searchParams.set('scope', challenge['scope'] ?? `repository:${repository}:pull`);
    const tokenResponse = await fetch(tokenUrl, {
      headers: credentials
        ? {
            authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
          }
        : {},
      signal: AbortSignal.timeout(timeout),
    });
    if (!tokenResponse.ok) return response;
    const body = (await tokenResponse.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (token === undefined) return response;
    this.tokens.set(key, token);
    response = await send(token);
    return response;
  }
}
