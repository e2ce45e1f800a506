import { isAbsolute, join } from 'node:path';
import { ateom } from '@substrate/proto';
import { InvalidRequestError } from '../sandbox';

/** Who the actor is; the fields key its directories on the node and label its logs. */
export interface ActorRef {
  /** Empty from an upstream atelet. */
  readonly atespace: string;
  readonly templateNamespace: string;
  readonly templateName: string;
  readonly actorId: string;
}

/** One container of the workload. */
export interface ContainerSpec {
  readonly name: string;
  readonly readiness?: { readonly port: number; readonly path: string };
  /** Mount paths of the container's durable dirs (absolute, clean). */
  readonly durableDirs: readonly string[];
}

/** A validated RunWorkload / CheckpointWorkload / RestoreWorkload request. */
export interface WorkloadRequest {
  readonly actor: ActorRef;
  /** The runsc binary named by the request; empty means ateom's configured default. */
  readonly runscPath: string;
  /**
   * The template's containers, in spec order (at least one; names unique). One container is the
   * sandbox's root container; with several, the pause container atelet prepared (`bundles/pause`) is
   * the root and they run beside it.
   */
  readonly containers: readonly ContainerSpec[];
  /** FULL or DATA; absent on RunWorkload. */
  readonly scope?: 'full' | 'data';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function label(field: string, value: string): string {
  if (value === '') throw new InvalidRequestError(field, 'is required');
  if (!DNS_LABEL.test(value))
    throw new InvalidRequestError(field, `${JSON.stringify(value)} is not a DNS-1123 label`);
  return value;
}

function subdomain(field: string, value: string): string {
  if (value === '') throw new InvalidRequestError(field, 'is required');
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new InvalidRequestError(field, `${JSON.stringify(value)} is not a DNS-1123 subdomain`);
  }
  return value;
}

/**
 * A durable dir's mount path: absolute and clean (the CRD's rule): not `/`, no trailing `/`, no `.` or
 * `..` segments, no `//`, `:` or control characters, at most 4096 bytes.
 */
export function validateMountPath(field: string, path: string): string {
  const problem =
    path === ''
      ? 'is empty'
      : !isAbsolute(path) || path === '/' || path.endsWith('/')
        ? 'must be absolute, not / and without a trailing /'
        : path.includes('//') || path.split('/').some((part) => part === '.' || part === '..')
          ? 'must be clean (no //, . or ..)'
          : /[:\p{Cc}]/u.test(path)
            ? 'must not contain : or control characters'
            : path.length > 4_096
              ? 'is longer than 4096 characters'
              : undefined;
  if (problem !== undefined) throw new InvalidRequestError(field, `${JSON.stringify(path)} ${problem}`);
  return path;
}

function container(at: string, spec: ateom.Container): ContainerSpec {
  const name = label(`${at}.name`, spec.name);
  if (name === 'pause') throw new InvalidRequestError(`${at}.name`, '"pause" is reserved');
  const httpGet = spec.readyz?.httpGet;
  let readiness: ContainerSpec['readiness'];
  if (httpGet !== undefined) {
    if (!Number.isInteger(httpGet.port) || httpGet.port < 1 || httpGet.port > 65_535) {
      throw new InvalidRequestError(`${at}.readyz.http_get.port`, `must be 1-65535, got ${httpGet.port}`);
    }
    const path =
      httpGet.path === '' ? '/readyz' : httpGet.path.startsWith('/') ? httpGet.path : `/${httpGet.path}`;
    if (/[\s\p{Cc}]/u.test(path)) {
      throw new InvalidRequestError(
        `${at}.readyz.http_get.path`,
        `${JSON.stringify(path)} is not a URL path`,
      );
    }
    readiness = { port: httpGet.port, path };
  }
  const durableDirs = spec.durableDirVolumes.map((path, i) =>
    validateMountPath(`${at}.durable_dir_volumes[${i}]`, path),
  );
  if (new Set(durableDirs).size !== durableDirs.length) {
    throw new InvalidRequestError(`${at}.durable_dir_volumes`, 'mount paths must be unique');
  }
  return { name, ...(readiness && { readiness }), durableDirs };
}

function containersOf(spec: ateom.WorkloadSpec | undefined): ContainerSpec[] {
  const containers = spec?.containers ?? [];
  if (containers.length === 0)
    throw new InvalidRequestError('spec.containers', 'at least one container is required');
  const names = new Set<string>();
  return containers.map((spec, i) => {
    const parsed = container(`spec.containers[${i}]`, spec);
    if (names.has(parsed.name)) {
      throw new InvalidRequestError(
        `spec.containers[${i}].name`,
        `duplicate container name ${JSON.stringify(parsed.name)}`,
      );
    }
    names.add(parsed.name);
    return parsed;
  });
}

/**
 * The durable dirs of all containers: their mount paths, each once. A durable dir is keyed by its mount
 * path (`durable-dir/<encoded path>`), so containers that mount the same path share one directory, as
 * they would share one volume.
 */
export function durableDirsOf(containers: readonly ContainerSpec[]): string[] {
  return [...new Set(containers.flatMap((c) => c.durableDirs))];
}

function scopeOf(scope: ateom.SnapshotScope): 'full' | 'data' {
  if (scope === ateom.SnapshotScope.SNAPSHOT_SCOPE_FULL) return 'full';
  if (scope === ateom.SnapshotScope.SNAPSHOT_SCOPE_DATA) return 'data';
  throw new InvalidRequestError(
    'scope',
    `must be SNAPSHOT_SCOPE_FULL or SNAPSHOT_SCOPE_DATA, got ${ateom.snapshotScopeToJSON(scope)}`,
  );
}

type AnyWorkloadRequest =
  ateom.RunWorkloadRequest | ateom.CheckpointWorkloadRequest | ateom.RestoreWorkloadRequest;

/**
 * Validates a request (fields named as in the .proto) and turns it into a {@link WorkloadRequest}.
 * Checkpoint and restore requests must carry a scope.
 */
export function parseWorkloadRequest(request: AnyWorkloadRequest): WorkloadRequest {
  const templateNamespace = label('actor_template_namespace', request.actorTemplateNamespace);
  const templateName = subdomain('actor_template_name', request.actorTemplateName);
  const actorId = label('actor_id', request.actorId);
  const atespace = request.actorAtespace === '' ? '' : label('actor_atespace', request.actorAtespace);
  const key = [atespace, templateNamespace, templateName, actorId].filter((part) => part !== '').join(':');
  if (key.length > 255)
    throw new InvalidRequestError('actor_id', 'atespace:namespace:template:id is longer than 255 bytes');
  if (
    request.runscPath !== '' &&
    (!isAbsolute(request.runscPath) || request.runscPath.split('/').includes('..'))
  ) {
    throw new InvalidRequestError(
      'runsc_path',
      `${JSON.stringify(request.runscPath)} must be an absolute path without ..`,
    );
  }
  return {
    actor: { atespace, templateNamespace, templateName, actorId },
    runscPath: request.runscPath,
    containers: containersOf(request.spec),
    ...('scope' in request && { scope: scopeOf(request.scope) }),
  };
}

/**
 * The actor's directory on the node, shared with atelet: `<actorsDir>/<ns>:<template>:<id>` (upstream's
 * key), prefixed with `<atespace>:` when the request names one.
 */
export function actorKey(actor: ActorRef): string {
  const parts = [actor.templateNamespace, actor.templateName, actor.actorId];
  return (actor.atespace === '' ? parts : [actor.atespace, ...parts]).join(':');
}

/** The files and directories of one actor that atelet and ateom share (see docs/sandbox.md). */
export interface ActorPaths {
  readonly dir: string;
  /** The bundle atelet prepared for a container: `config.json` and its rootfs. */
  bundle(container: string): string;
  /** Where CheckpointWorkload writes the snapshot files. */
  readonly checkpointDir: string;
  /** Where atelet puts the snapshot files before RestoreWorkload. */
  readonly restoreDir: string;
  /** Host directories backing the durable dirs. */
  readonly durableRoot: string;
  /** The host directory of one durable dir, by its mount path. */
  durableDir(mountPath: string): string;
}

/** The name of a durable dir's host directory: its mount path without the leading `/`, URI-encoded. */
export function durableDirName(mountPath: string): string {
  return encodeURIComponent(mountPath.slice(1));
}

export function actorPaths(actorsDir: string, actor: ActorRef): ActorPaths {
  const dir = join(actorsDir, actorKey(actor));
  const durableRoot = join(dir, 'durable-dir');
  return {
    dir,
    bundle: (container) => join(dir, 'bundles', container),
    checkpointDir: join(dir, 'checkpoint-state'),
    restoreDir: join(dir, 'restore-state'),
    durableRoot,
    durableDir: (mountPath) => join(durableRoot, durableDirName(mountPath)),
  };
}
