import { openObjectStore, type ObjectStoreConfig } from '@substrate/storage';
import type { SnapshotProbe } from './actor-workflows';

/** Checks a snapshot's commit marker (`manifest.json`, written last) in object storage. */
export class StorageSnapshotProbe implements SnapshotProbe {
  constructor(private readonly config: ObjectStoreConfig = {}) {}

  async isCommitted(snapshotUriPrefix: string): Promise<boolean> {
    const store = await openObjectStore(snapshotUriPrefix, this.config);
    try {
      return (await store.head('manifest.json')) !== undefined;
    } finally {
      await store.close();
    }
  }
}
