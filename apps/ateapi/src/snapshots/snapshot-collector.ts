import { Logger } from '@nestjs/common';
import { collectSnapshots, type CollectReport, deleteActorSnapshots } from '@substrate/snapshot-store';
import { openObjectStore, type ObjectStoreConfig } from '@substrate/storage';
import type { ateapi } from '@substrate/proto';
import type { Catalog } from '../catalog/catalog';
import { invalidArgument } from '../errors/control-error';
import { actorSnapshotSegment } from '../workflows/snapshot-names';

/** What a garbage-collection run did, per snapshot location. */
export interface GcRunReport {
  readonly dryRun: boolean;
  readonly locations: { readonly location: string; readonly report: CollectReport }[];
  readonly snapshotsDeleted: number;
  readonly bytesFreed: number;
  /** Uploads cut off mid-file (older than the grace period, never completed) that were aborted. */
  readonly abortedUploads: number;
  readonly failures: number;
}

export interface GcRequest {
  /** Committed snapshots to keep per actor (default 2). */
  readonly keepLatest?: number;
  /** Uncommitted (manifest-less) uploads younger than this are left alone (default 1 h). */
  readonly graceMs?: number;
  readonly dryRun?: boolean;
}

/**
 * Snapshot garbage collection from the control plane (upstream has none): the snapshots of a deleted
 * actor are deleted with it, and a GC run over every template's snapshot location keeps the latest N
 * committed snapshots per actor and removes older ones and abandoned uploads.
 */
export class SnapshotCollector {
  private readonly logger = new Logger(SnapshotCollector.name);

  constructor(
    private readonly catalog: Catalog,
    private readonly storage: ObjectStoreConfig = {},
  ) {}

  /** Deletes every snapshot of a deleted actor; failures are logged, not thrown (GC runs catch up). */
  async actorDeleted(actor: ateapi.Actor): Promise<void> {
    const template = this.catalog.getTemplate(actor.actorTemplateNamespace, actor.actorTemplateName);
    if (!template) return;
    const location = template.spec.snapshotsConfig.location;
    try {
      const store = await openObjectStore(location, this.storage);
      try {
        const report = await deleteActorSnapshots(
          store,
          '',
          actorSnapshotSegment(actor.atespace, actor.actorId),
        );
        if (report.snapshots > 0) {
          this.logger.log({
            message: 'deleted the snapshots of a deleted actor',
            actor: `${actor.atespace}/${actor.actorId}`,
            ...report,
          });
        }
      } finally {
        await store.close();
      }
    } catch (error) {
      this.logger.warn({
        message: 'could not delete the snapshots of a deleted actor',
        actor: `${actor.atespace}/${actor.actorId}`,
        location,
        error: String(error),
      });
    }
  }

  /** One GC pass over every distinct snapshot location of the catalog's templates. */
  async collect(request: GcRequest = {}): Promise<GcRunReport> {
    if (
      request.keepLatest !== undefined &&
      (!Number.isInteger(request.keepLatest) || request.keepLatest < 1)
    ) {
      throw invalidArgument(`keepLatest must be an integer of at least 1, got ${request.keepLatest}`);
    }
    if (request.graceMs !== undefined && (!Number.isFinite(request.graceMs) || request.graceMs < 0)) {
      throw invalidArgument(`graceSeconds must be 0 or more, got ${request.graceMs / 1000}`);
    }
    const locations = [
      ...new Set(this.catalog.listTemplates().map((t) => t.spec.snapshotsConfig.location)),
    ].sort();
    const results: GcRunReport['locations'][number][] = [];
    for (const location of locations) {
      const store = await openObjectStore(location, this.storage);
      try {
        const report = await collectSnapshots(store, '', {
          ...(request.keepLatest === undefined ? {} : { keepLatest: request.keepLatest }),
          ...(request.graceMs === undefined ? {} : { orphanGraceMs: request.graceMs }),
          ...(request.dryRun === undefined ? {} : { dryRun: request.dryRun }),
        });
        results.push({ location, report });
      } finally {
        await store.close();
      }
    }
    return {
      dryRun: request.dryRun ?? false,
      locations: results,
      snapshotsDeleted: results.reduce((n, r) => n + r.report.deleted.length, 0),
      bytesFreed: results.reduce((n, r) => n + r.report.bytesFreed, 0),
      abortedUploads: results.reduce((n, r) => n + r.report.abortedUploads, 0),
      failures: results.reduce((n, r) => n + r.report.failures.length, 0),
    };
  }
}
