// The actor record format against real Redis (standalone and cluster): actors are stored as compact
// `<version>:<protobuf>` strings, and actors that earlier versions stored as {v, d} hashes are still
// read, locked, updated (becoming strings) and deleted. Workers are listed through the worker index.
import { ateapi } from '@substrate/proto';
import { describeWithComponents, jestRedis } from '@substrate/testing';
import { ControlStore } from './control-store';
import { actorKey, WORKER_INDEX_BUILT_KEY, WORKER_INDEX_KEY, workerKey } from './keys';
import { RedisConnection, type RedisTarget } from './redis-connection';
import { isStoreError } from './store-error';

const actor = (atespace: string, actorId: string): ateapi.Actor => ({
  ...ateapi.Actor.fromPartial({}),
  actorId,
  atespace,
  actorTemplateNamespace: 'default',
  actorTemplateName: 'counter',
  status: ateapi.Actor_Status.STATUS_SUSPENDED,
  statusChangedUnixMs: 1_700_000_000_000,
  latestSnapshotInfo: {
    type: ateapi.SnapshotType.SNAPSHOT_TYPE_EXTERNAL,
    data: {
      $case: 'external',
      value: { snapshotUriPrefix: `s3://bucket/snapshots/${actorId}.${atespace}/2026-11-30T09:00:00.000Z-X` },
    },
  },
});

describeWithComponents(['redis-server'], 'ControlStore actor records', () => {
  describe.each<'standalone' | 'cluster'>(['standalone', 'cluster'])('on %s Redis', (mode) => {
    let connection: RedisConnection;
    let store: ControlStore;
    const space = `records-${mode}`;
    /** Worker pools of this run: Redis outlives a test run, and the worker index is shared. */
    const pool = (name: string) => `${name}-${mode}-${process.pid}`;
    /** Writes worker `p` of pool `name` straight into Redis, as a replica that keeps no index would. */
    const writeRawWorker = async (name: string, version: number) => {
      const worker = ateapi.Worker.fromPartial({
        workerNamespace: 'ns',
        workerPool: pool(name),
        workerPod: 'p',
        version,
      });
      const key = workerKey('ns', pool(name), 'p');
      await connection.client.hset(
        key,
        'v',
        String(version),
        'd',
        Buffer.from(ateapi.Worker.encode(worker).finish()),
      );
      const find = (workers: ateapi.Worker[]) => workers.find((w) => w.workerPool === pool(name));
      return { worker, key, find };
    };

    beforeAll(async () => {
      const { url, clusterSeeds } = jestRedis();
      const target: RedisTarget = mode === 'standalone' ? { mode, url } : { mode, seeds: clusterSeeds };
      connection = new RedisConnection(target);
      await connection.connect();
      store = new ControlStore(connection);
    });

    afterAll(async () => {
      await connection.close();
    });

    it('stores an actor as one compact string and reads back exactly what was written', async () => {
      const created = await store.createActor(actor(space, 'compact'));
      const raw = await connection.client.getBuffer(actorKey(space, 'compact'));
      expect(raw?.subarray(0, 2).toString()).toBe('1:');
      expect(ateapi.Actor.decode(raw?.subarray(2) ?? Buffer.alloc(0))).toEqual(created);
      expect(await store.getActor(space, 'compact')).toEqual(created);

      const locked = await store.lockActor(space, 'compact', 5_000);
      if (locked === undefined || locked === 'busy') throw new Error('lock not taken');
      expect(locked.actor).toEqual(created);
      const updated = await store.putActor(
        { ...locked.actor, status: ateapi.Actor_Status.STATUS_RESUMING },
        locked.lock,
        true,
      );
      expect(updated.version).toBe(2);
      expect(await store.getActor(space, 'compact')).toEqual(updated);
      expect(await store.isActorLocked(space, 'compact')).toBe(false);

      const stale = await store.putActor(created).catch((error: unknown) => error);
      expect(isStoreError(stale, 'CONFLICT')).toBe(true);
      const again = await store.createActor(actor(space, 'compact')).catch((error: unknown) => error);
      expect(isStoreError(again, 'EXISTS')).toBe(true);
      const wrongDelete = await store.deleteActor(space, 'compact', 1).catch((error: unknown) => error);
      expect(isStoreError(wrongDelete, 'CONFLICT')).toBe(true);
      await store.deleteActor(space, 'compact', 2);
      expect(await store.getActor(space, 'compact')).toBeUndefined();
    });

    it('reads, locks, updates and deletes an actor stored as a {v, d} hash by an earlier version', async () => {
      const legacy = { ...actor(space, 'legacy'), version: 7 };
      const key = actorKey(space, 'legacy');
      await connection.client.hset(key, 'v', '7', 'd', Buffer.from(ateapi.Actor.encode(legacy).finish()));

      expect(await store.getActor(space, 'legacy')).toEqual(legacy);
      const page = await store.listActors(1000, '', space);
      expect(page.actors.find((a) => a.actorId === 'legacy')).toEqual(legacy);

      const locked = await store.lockActor(space, 'legacy', 5_000);
      if (locked === undefined || locked === 'busy') throw new Error('lock not taken');
      expect(locked.actor).toEqual(legacy);
      const stale = await store
        .putActor({ ...legacy, version: 6 }, locked.lock)
        .catch((error: unknown) => error);
      expect(isStoreError(stale, 'CONFLICT')).toBe(true);
      const updated = await store.putActor({ ...legacy, ateomPodUid: 'w-1' }, locked.lock, true);
      expect(updated.version).toBe(8);
      expect(await connection.client.type(key)).toBe('string');
      expect(await store.getActor(space, 'legacy')).toEqual(updated);

      await connection.client.del(key);
      await connection.client.hset(key, 'v', '3', 'd', Buffer.from(ateapi.Actor.encode(legacy).finish()));
      await store.deleteActor(space, 'legacy', 3);
      expect(await connection.client.exists(key)).toBe(0);
    });

    it('lists workers through the index: prunes entries missing past a grace period, renewals put entries back', async () => {
      let clock = 1_000_000;
      const indexed = new ControlStore(connection, {}, () => clock);
      const worker = (pod: string): ateapi.Worker =>
        ateapi.Worker.fromPartial({ workerNamespace: 'ns', workerPool: pool('index'), workerPod: pod });
      const keyOf = (pod: string) => workerKey('ns', pool('index'), pod);
      const listed = async () => (await indexed.listWorkers()).map((w) => w.workerPod);
      const inIndex = (pod: string) => connection.client.sismember(WORKER_INDEX_KEY, keyOf(pod));

      const a = await indexed.putWorker(worker('a'));
      expect(await listed()).toContain('a');
      expect(await inIndex('a')).toBe(1);

      // An entry without a record (a deleted worker, or a create between its two writes) is kept for the
      // grace period, then pruned.
      await connection.client.sadd(WORKER_INDEX_KEY, keyOf('ghost'));
      expect(await listed()).not.toContain('ghost');
      expect(await inIndex('ghost')).toBe(1);
      clock += 29_000;
      await listed();
      expect(await inIndex('ghost')).toBe(1);
      clock += 2_000;
      await listed();
      expect(await inIndex('ghost')).toBe(0);

      // An entry lost anyway comes back with the worker's next lease renewal.
      await connection.client.srem(WORKER_INDEX_KEY, keyOf('a'));
      expect(await listed()).not.toContain('a');
      await indexed.renewWorkerLease(a, Date.now() + 10_000);
      expect(await listed()).toContain('a');

      // A deleted worker leaves the listing at once and the index after the grace period.
      await indexed.deleteWorker({ ...a, version: a.version });
      expect(await listed()).not.toContain('a');
      clock += 31_000;
      await listed();
      expect(await inIndex('a')).toBe(0);
    });

    it('adds to the index, in the background, workers it lacks (older replicas, lost index writes)', async () => {
      const reconciling = new ControlStore(connection, { workerIndexReconcileMs: 0 });
      await reconciling.listWorkers(); // builds the index (sets the marker) and starts a reconciliation
      await reconciling.settleWorkerIndex();
      const { worker: lost, key, find } = await writeRawWorker('lost', 2);
      // This listing starts a reconciliation in the background and answers from the index as it is.
      expect(find(await reconciling.listWorkers())).toBeUndefined();
      await reconciling.settleWorkerIndex();
      expect(find(await reconciling.listWorkers())).toEqual(lost);
      await reconciling.settleWorkerIndex();
      await connection.client.del(key);
    });

    it('indexes once the workers written before the index existed', async () => {
      const { worker: old, key, find } = await writeRawWorker('old', 4);
      await connection.client.del(WORKER_INDEX_BUILT_KEY);
      const fresh = new ControlStore(connection); // another process, started after the upgrade
      expect(find(await fresh.listWorkers())).toEqual(old);
      expect(await connection.client.get(WORKER_INDEX_BUILT_KEY)).toBe('1');
      await connection.client.del(key);
      expect(find(await fresh.listWorkers())).toBeUndefined();
    });
  });
});
