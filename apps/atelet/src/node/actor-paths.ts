import { join } from 'node:path';
import { actorKey, type ActorRef } from '../herder/herder-request';

/**
 * The files and directories of one actor on the node (docs/atelet.md), shared with ateom:
 * `<actorsDir>/<atespace>:<ns>:<template>:<id>/`.
 */
export interface ActorPaths {
  readonly dir: string;
  /** `bundles/<container>`: `config.json` (its root points into the rootfs cache). */
  bundle(container: string): string;
  readonly bundlesDir: string;
  /** Where ateom's CheckpointWorkload writes the snapshot files. */
  readonly checkpointDir: string;
  /** Where atelet puts the snapshot files before RestoreWorkload. */
  readonly restoreDir: string;
  /** LOCAL snapshots: `local-checkpoint/<prefix>/{files…, manifest.json}`; survives resets. */
  localCheckpoint(prefix: string): string;
  /** atelet's record of what the actor runs with (`sandbox-assets.json`); survives resets. */
  readonly record: string;
}

export function actorPaths(actorsDir: string, actor: ActorRef): ActorPaths {
  const dir = join(actorsDir, actorKey(actor));
  return {
    dir,
    bundle: (container) => join(dir, 'bundles', container),
    bundlesDir: join(dir, 'bundles'),
    checkpointDir: join(dir, 'checkpoint-state'),
    restoreDir: join(dir, 'restore-state'),
    localCheckpoint: (prefix) => join(dir, 'local-checkpoint', prefix),
    record: join(dir, 'sandbox-assets.json'),
  };
}
