// Snapshot garbage collection from the control plane: POST /v1/snapshots/gc keeps the latest N committed
// snapshots per actor (real snapshots, written by the snapshot-store mover to a file:// location), and
// DeleteActor deletes the deleted actor's snapshots.
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openObjectStore } from '@substrate/storage';
import { listSnapshots, newSnapshotPrefix, uploadSnapshot } from '@substrate/snapshot-store';
import { describeWithComponents, tempDir } from '@substrate/testing';
import { MemoryCatalog } from '../src/catalog/catalog';
import { call, pool, type RunningAteapi, sandboxConfig, startAteapi, template } from './ateapi-harness';

describeWithComponents(['redis-server'], 'snapshot garbage collection through ateapi', () => {
  const dir = tempDir('ateapi-gc');
  const location = `file://${join(dir.path, 'snapshots')}`;
  let api: RunningAteapi;

  beforeAll(async () => {
    api = await startAteapi({
      redis: 'standalone',
      catalog: new MemoryCatalog([
        template('gc', { snapshotsConfig: { location, onPause: 'Full', onCommit: 'Full' } }),
        pool('pool'),
        sandboxConfig(),
      ]),
      env: { ATEAPI_DEBUG_CLEAR: 'true' },
    });
    await call(api.control, 'debugClear', {});
    await call(api.control, 'createAtespace', { name: 'web' });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  /** Writes a real committed snapshot of `<actor>.web`, `ageMs` old. */
  async function snapshot(actor: string, ageMs: number): Promise<string> {
    const store = await openObjectStore(location);
    try {
      const file = join(dir.path, 'checkpoint.img');
      writeFileSync(file, `state of ${actor} ${ageMs}`);
      const prefix = newSnapshotPrefix(`${actor}.web`, { now: new Date(Date.now() - ageMs) });
      await uploadSnapshot(store, prefix, dir.path, ['checkpoint.img'], {
        metadata: {
          sandboxClass: 'gvisor',
          scope: 'Full',
          assets: { runsc: { url: 'file:///usr/bin/runsc', sha256: 'a'.repeat(64) } },
        },
      });
      return prefix;
    } finally {
      await store.close();
    }
  }

  async function snapshotsOf(actor: string) {
    const store = await openObjectStore(location);
    try {
      return (await listSnapshots(store, '', { actorId: `${actor}.web` })).map((s) => s.prefix);
    } finally {
      await store.close();
    }
  }

  async function gc(body: unknown) {
    const response = await fetch(`${api.httpUrl}/v1/snapshots/gc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('keeps the latest N committed snapshots per actor and reports what it freed', async () => {
    const old1 = await snapshot('keeper', 30_000);
    const old2 = await snapshot('keeper', 20_000);
    const newest = await snapshot('keeper', 10_000);
    const dry = await gc({ keepLatest: 1, dryRun: true });
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true, snapshotsDeleted: 2, failures: 0 } });
    expect(await snapshotsOf('keeper')).toHaveLength(3);
    const run = await gc({ keepLatest: 1 });
    expect(run).toMatchObject({ status: 200, body: { dryRun: false, snapshotsDeleted: 2, failures: 0 } });
    expect(run.body['bytesFreed']).toEqual(expect.any(Number));
    expect(await snapshotsOf('keeper')).toEqual([newest]);
    expect([old1, old2]).not.toContain(newest);
    expect(await gc({ keepLatest: 0 })).toEqual({
      status: 400,
      body: { code: 'INVALID_ARGUMENT', message: 'keepLatest must be an integer of at least 1, got 0' },
    });
  });

  it('aborts uploads cut off mid-file once older than the grace period, and reports them', async () => {
    // What an uploader killed during a snapshot's first file leaves on file://: only its temp file.
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    const prefix = newSnapshotPrefix('killed.web', { now: twoHoursAgo });
    const temp = join(dir.path, 'snapshots', prefix, '.substrate-upload-0123456789abcdef');
    mkdirSync(join(temp, '..'), { recursive: true });
    writeFileSync(temp, 'partial');
    utimesSync(temp, twoHoursAgo, twoHoursAgo);
    expect(await gc({ graceSeconds: 3 * 3600, dryRun: true })).toMatchObject({
      status: 200,
      body: { abortedUploads: 0 },
    });
    expect(await gc({ dryRun: true })).toMatchObject({ status: 200, body: { abortedUploads: 1 } });
    expect(existsSync(temp)).toBe(true);
    expect(await gc({})).toMatchObject({ status: 200, body: { abortedUploads: 1, failures: 0 } });
    expect(existsSync(join(dir.path, 'snapshots', 'killed.web'))).toBe(false);
  });

  it('DeleteActor deletes the actor’s snapshots', async () => {
    await call(api.control, 'createActor', {
      actorRef: { atespace: 'web', name: 'gone' },
      actorTemplateNamespace: 'default',
      actorTemplateName: 'gc',
      workerSelector: undefined,
      annotations: {},
    });
    await snapshot('gone', 5_000);
    await snapshot('gone', 1_000);
    expect(await snapshotsOf('gone')).toHaveLength(2);
    await call(api.control, 'deleteActor', { actorRef: { atespace: 'web', name: 'gone' } });
    expect(await snapshotsOf('gone')).toEqual([]);
  });
});
