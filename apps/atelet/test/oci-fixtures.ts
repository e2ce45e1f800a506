import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MEDIA_TYPES, writeLayer } from '@substrate/images';

function blob(layout: string, content: string, mediaType: string) {
  const bytes = Buffer.from(content);
  const hex = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(layout, 'blobs', 'sha256', hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

/** An OCI image layout with one tar+gzip layer per directory in `layers` (lowest first), tagged `tag`. */
export async function multiLayerLayout(
  layout: string,
  layers: readonly string[],
  config: Record<string, unknown>,
  tag = 'test',
): Promise<{ manifestDigest: string; layerDigests: string[] }> {
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  const written = [];
  for (const dir of layers) written.push(await writeLayer(layout, dir));
  const configBlob = blob(
    layout,
    JSON.stringify({
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      os: 'linux',
      config,
      rootfs: { type: 'layers', diff_ids: written.map((w) => w.diffId) },
    }),
    MEDIA_TYPES.config,
  );
  const manifest = blob(
    layout,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: configBlob,
      layers: written.map((w) => w.layer),
    }),
    MEDIA_TYPES.manifest,
  );
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { manifestDigest: manifest.digest, layerDigests: written.map((w) => w.layer.digest) };
}
