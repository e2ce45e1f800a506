import { describeWithComponents } from './components';
import { startFakeGcs } from './gcs';
import { signedS3Request, startS3Server } from './s3';

describeWithComponents(['versitygw'], 'S3 harness (real versitygw on loopback)', () => {
  it('serves signed requests with its generated credentials and rejects others', async () => {
    const s3 = await startS3Server({ buckets: ['harness-bucket'] });
    try {
      expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const list = await signedS3Request(s3, 'GET', '/');
      expect(list.status).toBe(200);
      expect(await list.text()).toContain('<Name>harness-bucket</Name>');
      const forged = await signedS3Request({ ...s3, secretAccessKey: 'wrong' }, 'GET', '/');
      expect(forged.status).toBe(403);
    } finally {
      await s3.stop();
    }
  });

  it('stops the server it started and reaps the process', async () => {
    const s3 = await startS3Server();
    const pid = s3.pid ?? -1;
    await s3.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(signedS3Request(s3, 'GET', '/')).rejects.toThrow();
  });
});

describeWithComponents(['fake-gcs-server'], 'GCS harness (real fake-gcs-server on loopback)', () => {
  it('serves the JSON API over http with the buckets it was asked for, then stops', async () => {
    const gcs = await startFakeGcs({ buckets: ['harness-bucket'] });
    const pid = gcs.pid ?? -1;
    try {
      const res = await fetch(`${gcs.apiEndpoint}/storage/v1/b`);
      const body = (await res.json()) as { items?: { name: string }[] };
      expect(body.items?.map((b) => b.name)).toEqual(['harness-bucket']);
    } finally {
      await gcs.stop();
    }
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
