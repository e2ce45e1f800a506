// Sandbox assets fetched from object storage: s3:// from versitygw and gs:// from fake-gcs-server, both on
// loopback, through @substrate/storage; the sha256 pin is checked on both.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openObjectStore, type ObjectStoreConfig } from '@substrate/storage';
import {
  describeWithComponents,
  startFakeGcs,
  startS3Server,
  tempDir,
  type FakeGcsInstance,
  type S3ServerInstance,
} from '@substrate/testing';
import { SandboxAssetCache } from './sandbox-assets';

describeWithComponents(['versitygw', 'fake-gcs-server'], 'sandbox assets from s3:// and gs://', () => {
  let tmp: { path: string; remove: () => void };
  let s3: S3ServerInstance;
  let gcs: FakeGcsInstance;
  let storage: ObjectStoreConfig;
  const content = Buffer.alloc(3 * 1024 * 1024, 'runsc ');
  const sha256 = createHash('sha256').update(content).digest('hex');

  beforeAll(async () => {
    tmp = tempDir('atelet-assets-storage');
    s3 = await startS3Server({ buckets: ['assets'] });
    gcs = await startFakeGcs();
    await gcs.createBucket('assets');
    storage = {
      s3: {
        endpoint: s3.endpoint,
        region: s3.region,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      },
      gcs: { apiEndpoint: gcs.apiEndpoint },
    };
    for (const uri of ['s3://assets/releases/20240729', 'gs://assets/releases/20240729']) {
      const store = await openObjectStore(uri, storage);
      await store.put('runsc', content, { contentLength: content.length });
      await store.close();
    }
  });

  afterAll(async () => {
    await s3?.stop();
    await gcs?.stop();
    tmp?.remove();
  });

  it.each(['s3', 'gs'])('fetches %s:// and checks the sha256', async (scheme) => {
    const cache = new SandboxAssetCache(join(tmp.path, scheme), storage);
    const url = `${scheme}://assets/releases/20240729/runsc`;
    const path = await cache.ensure('runsc', { url, sha256 });
    expect(readFileSync(path).equals(content)).toBe(true);
    const wrong = 'e'.repeat(64);
    await expect(
      new SandboxAssetCache(join(tmp.path, `${scheme}-2`), storage).ensure('runsc', { url, sha256: wrong }),
    ).rejects.toThrow(`sandbox asset ${url} has sha256 ${sha256}, expected ${wrong}; refusing to use it`);
    await expect(cache.ensure('other', { url: `${scheme}://assets/missing/runsc`, sha256 })).rejects.toThrow(
      `cannot fetch sandbox asset ${scheme}://assets/missing/runsc`,
    );
  });
});
