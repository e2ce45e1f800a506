// `npm run snapshot-gc -- <location-uri> [options]`: garbage-collects the snapshots under a snapshot location
// with @substrate/snapshot-store's collectSnapshots (or deletes one actor's) and prints what was freed.
import { openObjectStore, type ObjectStoreConfig } from '@substrate/storage';
import {
  DEFAULT_KEEP_LATEST,
  DEFAULT_ORPHAN_GRACE_MS,
  collectSnapshots,
  deleteActorSnapshots,
} from '@substrate/snapshot-store';

export const USAGE = `usage: npm run snapshot-gc -- <location-uri> [options]

Keeps the newest committed snapshots of every actor under the location and deletes the older ones, and
deletes uploads that never committed (no manifest.json) once they are older than the grace period; uploads
cut off mid-file that are older than that (S3 multipart uploads, file:// temp files) are aborted.

  <location-uri>         file:///dir, s3://bucket/prefix or gs://bucket/prefix (the template's location)
  --keep <n>             committed snapshots kept per actor (default ${DEFAULT_KEEP_LATEST})
  --grace <duration>     age before an uncommitted snapshot is deleted: 90s, 30m, 1h, 2d (default ${DEFAULT_ORPHAN_GRACE_MS / 3_600_000}h)
  --actor <id>           only this actor's snapshots
  --delete-actor <id>    delete every snapshot of this actor instead (when the actor is deleted)
  --dry-run              print what would be deleted, delete nothing
  --json                 print the report as JSON
  --s3-endpoint <url>    S3-compatible endpoint (default $AWS_ENDPOINT_URL); credentials from the AWS chain
  --gcs-endpoint <url>   GCS emulator endpoint (default $STORAGE_EMULATOR_HOST); otherwise ADC
`;

/** The parsed command line. */
export interface GcArgs {
  readonly uri: string;
  readonly keepLatest: number;
  readonly orphanGraceMs: number;
  readonly actorId?: string;
  readonly deleteActor?: string;
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly s3Endpoint?: string;
  readonly gcsEndpoint?: string;
}

/** A command line that cannot be run; the message says why. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `1h`, `2d`, `500ms` or `0` as milliseconds. @throws UsageError */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  const unit = UNITS[match?.[2] ?? ''];
  if (match === null || unit === undefined) {
    throw new UsageError(`--grace: "${text}" is not a duration such as 90s, 30m, 1h or 2d`);
  }
  return Number(match[1]) * unit;
}

/** Parses the arguments after the script name. @throws UsageError */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): GcArgs {
  const positional: string[] = [];
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const takesValue = ['--keep', '--grace', '--actor', '--delete-actor', '--s3-endpoint', '--gcs-endpoint'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [name = '', inline] = arg.split(/=(.*)/s, 2);
    if (takesValue.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      values.set(name, value);
    } else if (arg === '--dry-run' || arg === '--json') flags.add(arg);
    else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (positional.length !== 1) throw new UsageError('expected exactly one location URI');
  const keepText = values.get('--keep');
  const keepLatest = keepText === undefined ? DEFAULT_KEEP_LATEST : Number(keepText);
  if (!Number.isInteger(keepLatest) || keepLatest < 1) {
    throw new UsageError(`--keep: "${keepText ?? ''}" is not an integer ≥ 1`);
  }
  const graceText = values.get('--grace');
  const s3Endpoint = values.get('--s3-endpoint') ?? env['AWS_ENDPOINT_URL'];
  const gcsEmulator = env['STORAGE_EMULATOR_HOST'];
  const gcsEndpoint = values.get('--gcs-endpoint') ?? gcsEmulator;
  const actorId = values.get('--actor');
  const deleteActor = values.get('--delete-actor');
  return {
    uri: positional[0] ?? '',
    keepLatest,
    orphanGraceMs: graceText === undefined ? DEFAULT_ORPHAN_GRACE_MS : parseDuration(graceText),
    dryRun: flags.has('--dry-run'),
    json: flags.has('--json'),
    ...(actorId === undefined ? {} : { actorId }),
    ...(deleteActor === undefined ? {} : { deleteActor }),
    ...(s3Endpoint === undefined || s3Endpoint === '' ? {} : { s3Endpoint }),
    ...(gcsEndpoint === undefined || gcsEndpoint === '' ? {} : { gcsEndpoint }),
  };
}

function storeConfig(args: GcArgs): ObjectStoreConfig {
  return {
    ...(args.s3Endpoint === undefined ? {} : { s3: { endpoint: args.s3Endpoint } }),
    ...(args.gcsEndpoint === undefined ? {} : { gcs: { apiEndpoint: args.gcsEndpoint } }),
  };
}

const MiB = 1024 * 1024;
const size = (bytes: number): string => `${bytes} bytes (${(bytes / MiB).toFixed(1)} MiB)`;

/** Runs the command; writes the report to `out`, problems to `err`; resolves with the exit code. */
export async function run(
  argv: readonly string[],
  out: (line: string) => void,
  err: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(USAGE);
    return 0;
  }
  let args: GcArgs;
  try {
    args = parseArgs(argv, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`snapshot-gc: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  const store = await openObjectStore(args.uri, storeConfig(args));
  try {
    if (args.deleteActor !== undefined) {
      if (args.dryRun) {
        err('snapshot-gc: --dry-run is not supported with --delete-actor');
        return 2;
      }
      const report = await deleteActorSnapshots(store, '', args.deleteActor);
      if (args.json) out(JSON.stringify(report, null, 2));
      else {
        out(
          `deleted ${report.snapshots} snapshot(s) of actor ${args.deleteActor}: ` +
            `${report.objectsDeleted} object(s), freed ${size(report.bytesFreed)}`,
        );
      }
      return 0;
    }
    const report = await collectSnapshots(store, '', {
      keepLatest: args.keepLatest,
      orphanGraceMs: args.orphanGraceMs,
      dryRun: args.dryRun,
      ...(args.actorId === undefined ? {} : { actorId: args.actorId }),
    });
    if (args.json) {
      out(
        JSON.stringify(
          {
            ...report,
            failures: report.failures.map((f) => ({ prefix: f.prefix, error: String(f.error) })),
          },
          null,
          2,
        ),
      );
    } else {
      const verb = report.dryRun ? 'would delete' : 'deleted';
      for (const snapshot of report.deleted) {
        out(
          `${verb} ${snapshot.prefix} (${snapshot.reason}, ${snapshot.objects} object(s), ${size(snapshot.bytes)})`,
        );
      }
      for (const failure of report.failures)
        err(`failed to delete ${failure.prefix}: ${String(failure.error)}`);
      out(
        `${report.dryRun ? 'would free' : 'freed'} ${size(report.bytesFreed)} in ${report.deleted.length} ` +
          `snapshot(s) (${report.objectsDeleted} object(s)); kept ${report.kept}` +
          (report.abortedUploads > 0
            ? `; ${report.dryRun ? 'would abort' : 'aborted'} ${report.abortedUploads} incomplete upload(s)`
            : '') +
          (report.failures.length > 0 ? `; ${report.failures.length} deletion(s) failed` : ''),
      );
    }
    return report.failures.length > 0 ? 1 : 0;
  } finally {
    await store.close();
  }
}
