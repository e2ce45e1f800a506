import { atelet } from '@substrate/proto';
import { InvalidRequestError } from '../errors/atelet-error';

/** Who the actor is; the fields key its directory on the node (shared with ateom). */
export interface ActorRef {
  /** Empty from an upstream caller. */
  readonly atespace: string;
  readonly templateNamespace: string;
  readonly templateName: string;
  readonly actorId: string;
}

/** A container of the workload, validated. */
export interface ContainerRequest {
  readonly name: string;
  readonly image: string;
  /** Overrides the image's entrypoint and cmd when not empty. */
  readonly command: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly readyz?: { readonly path: string; readonly port: number };
  /** Mount paths of the durable-dir volumes the container mounts. */
  readonly durableDirMounts: readonly string[];
}

export interface WorkloadRequestSpec {
  readonly containers: readonly ContainerRequest[];
  /**
   * Image of the sandbox's root container (`spec.pause_image`); required, and used, only with more than
   * one container (one container is the sandbox's root itself).
   */
  readonly pauseImage: string;
}

/** Where a snapshot goes to or comes from. */
export type SnapshotTarget =
  { readonly kind: 'local'; readonly prefix: string } | { readonly kind: 'external'; readonly uri: string };

export type Scope = 'full' | 'data';

export interface RunCall {
  readonly workerUid: string;
  readonly actor: ActorRef;
  readonly spec: WorkloadRequestSpec;
  readonly assets: atelet.SandboxAssets;
}

export interface CheckpointCall {
  readonly workerUid: string;
  readonly actor: ActorRef;
  readonly target: SnapshotTarget;
  readonly scope: Scope;
}

export interface RestoreCall extends CheckpointCall {
  readonly spec: WorkloadRequestSpec;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SHA256 = /^[0-9a-f]{64}$/;
const LOCAL_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,254}$/;

/** A DNS-1123 label (actor ids, atespaces, container names), or {@link InvalidRequestError} naming the field. */
export function dnsLabel(field: string, value: string): string {
  if (value === '') throw new InvalidRequestError(field, 'is required');
  if (!DNS_LABEL.test(value)) {
    throw new InvalidRequestError(field, `${JSON.stringify(value)} is not a DNS-1123 label`);
  }
  return value;
}

function subdomain(field: string, value: string): string {
  if (value === '') throw new InvalidRequestError(field, 'is required');
  if (value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    throw new InvalidRequestError(field, `${JSON.stringify(value)} is not a DNS-1123 subdomain`);
  }
  return value;
}

type AnyRequest = atelet.RunRequest | atelet.CheckpointRequest | atelet.RestoreRequest;

function actorOf(request: AnyRequest): { workerUid: string; actor: ActorRef } {
  const templateNamespace = dnsLabel('actor_template_namespace', request.actorTemplateNamespace);
  const templateName = subdomain('actor_template_name', request.actorTemplateName);
  const actorId = dnsLabel('actor_id', request.actorId);
  if (templateNamespace.length + 1 + templateName.length + 1 + actorId.length > 255) {
    throw new InvalidRequestError(
      'actor_id',
      'actor_template_namespace:actor_template_name:actor_id is longer than 255 bytes',
    );
  }
  const atespace = request.actorAtespace === '' ? '' : dnsLabel('actor_atespace', request.actorAtespace);
  const workerUid = dnsLabel('target_ateom_uid', request.targetAteomUid);
  return { workerUid, actor: { atespace, templateNamespace, templateName, actorId } };
}

/** Absolute, clean mount path (the CRD's rule for durable dirs). */
function mountPath(field: string, path: string): string {
  const problem =
    path === ''
      ? 'is empty'
      : !path.startsWith('/') || path === '/' || path.endsWith('/')
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

function specOf(
  spec: atelet.WorkloadSpec | undefined,
  { required }: { required: boolean },
): WorkloadRequestSpec {
  const containers = spec?.containers ?? [];
  if (required && containers.length === 0)
    throw new InvalidRequestError('spec.containers', 'at least one container is required');
  const volumes = new Map<string, atelet.Volume>();
  (spec?.volumes ?? []).forEach((volume, i) => {
    const name = dnsLabel(`spec.volumes[${i}].name`, volume.name);
    if (volumes.has(name))
      throw new InvalidRequestError(`spec.volumes[${i}].name`, `duplicate volume ${JSON.stringify(name)}`);
    if (volume.type !== atelet.VolumeType.VOLUME_TYPE_DURABLE_DIR) {
      throw new InvalidRequestError(`spec.volumes[${i}].type`, 'must be VOLUME_TYPE_DURABLE_DIR');
    }
    volumes.set(name, volume);
  });
  const pauseImage = spec?.pauseImage ?? '';
  if (required && containers.length > 1 && pauseImage === '') {
    throw new InvalidRequestError(
      'spec.pause_image',
      `is required with more than one container (the sandbox's root), got ${containers.length} containers`,
    );
  }
  const names = new Set<string>();
  return {
    pauseImage,
    containers: containers.map((container, i) => {
      const at = `spec.containers[${i}]`;
      const name = dnsLabel(`${at}.name`, container.name);
      if (name === 'pause') throw new InvalidRequestError(`${at}.name`, '"pause" is reserved');
      if (names.has(name))
        throw new InvalidRequestError(`${at}.name`, `duplicate container name ${JSON.stringify(name)}`);
      names.add(name);
      if (required && container.image === '') throw new InvalidRequestError(`${at}.image`, 'is required');
      container.env.forEach((entry, j) => {
        if (entry.name === '' || entry.name.includes('=') || entry.name.includes('\0')) {
          throw new InvalidRequestError(
            `${at}.env[${j}].name`,
            `${JSON.stringify(entry.name)} is not a variable name`,
          );
        }
      });
      const httpGet = container.readyz?.httpGet;
      if (
        httpGet !== undefined &&
        (!Number.isInteger(httpGet.port) || httpGet.port < 1 || httpGet.port > 65_535)
      ) {
        throw new InvalidRequestError(`${at}.readyz.http_get.port`, `must be 1-65535, got ${httpGet.port}`);
      }
      const durableDirMounts = container.volumeMounts.map((mount, j) => {
        if (!volumes.has(mount.name)) {
          throw new InvalidRequestError(
            `${at}.volume_mounts[${j}].name`,
            `no volume named ${JSON.stringify(mount.name)} in spec.volumes`,
          );
        }
        return mountPath(`${at}.volume_mounts[${j}].mount_path`, mount.mountPath);
      });
      return {
        name,
        image: container.image,
        command: [...container.command],
        env: container.env.map(({ name: key, value }) => ({ name: key, value })),
        ...(httpGet !== undefined && {
          readyz: { path: httpGet.path === '' ? '/readyz' : httpGet.path, port: httpGet.port },
        }),
        durableDirMounts,
      };
    }),
  };
}

function scopeOf(scope: atelet.SnapshotScope): Scope {
  if (scope === atelet.SnapshotScope.SNAPSHOT_SCOPE_FULL) return 'full';
  if (scope === atelet.SnapshotScope.SNAPSHOT_SCOPE_DATA) return 'data';
  throw new InvalidRequestError(
    'scope',
    `must be SNAPSHOT_SCOPE_FULL or SNAPSHOT_SCOPE_DATA, got ${atelet.snapshotScopeToJSON(scope)}`,
  );
}

function targetOf(request: atelet.CheckpointRequest | atelet.RestoreRequest): SnapshotTarget {
  const config = request.config;
  if (request.type === atelet.CheckpointType.CHECKPOINT_TYPE_LOCAL) {
    if (config?.$case !== 'localConfig')
      throw new InvalidRequestError('local_config', 'is required for CHECKPOINT_TYPE_LOCAL');
    const prefix = config.value.snapshotPrefix;
    if (prefix === '') throw new InvalidRequestError('local_config.snapshot_prefix', 'is required');
    if (!LOCAL_PREFIX.test(prefix) || prefix.includes('..')) {
      throw new InvalidRequestError(
        'local_config.snapshot_prefix',
        `${JSON.stringify(prefix)} must be a plain directory name ([A-Za-z0-9._:-], no / or ..)`,
      );
    }
    return { kind: 'local', prefix };
  }
  if (request.type === atelet.CheckpointType.CHECKPOINT_TYPE_EXTERNAL) {
    if (config?.$case !== 'externalConfig')
      throw new InvalidRequestError('external_config', 'is required for CHECKPOINT_TYPE_EXTERNAL');
    const uri = config.value.snapshotUriPrefix;
    const field = 'external_config.snapshot_uri_prefix';
    if (uri === '') throw new InvalidRequestError(field, 'is required');
    let parsed: URL;
    try {
      parsed = new URL(uri);
    } catch {
      throw new InvalidRequestError(field, `${JSON.stringify(uri)} is not a URI`);
    }
    // file:///dir has no host; it names a directory on this node (local mode and tests).
    if (parsed.host === '' && parsed.protocol !== 'file:')
      throw new InvalidRequestError(field, `${JSON.stringify(uri)} has no host (bucket)`);
    if (parsed.username !== '' || parsed.password !== '')
      throw new InvalidRequestError(field, 'must not carry user info');
    if (parsed.search !== '' || uri.includes('?'))
      throw new InvalidRequestError(field, 'must not carry a query');
    if (parsed.hash !== '' || uri.includes('#'))
      throw new InvalidRequestError(field, 'must not carry a fragment');
    return { kind: 'external', uri };
  }
  throw new InvalidRequestError(
    'type',
    `must be CHECKPOINT_TYPE_LOCAL or CHECKPOINT_TYPE_EXTERNAL, got ${atelet.checkpointTypeToJSON(request.type)}`,
  );
}

function assetsOf(assets: atelet.SandboxAssets | undefined): atelet.SandboxAssets {
  if (assets === undefined) throw new InvalidRequestError('sandbox_assets', 'is required');
  for (const [arch, files] of Object.entries(assets.assets)) {
    for (const [name, file] of Object.entries(files.files)) {
      const at = `sandbox_assets.assets[${arch}].files[${name}]`;
      if (!SHA256.test(file.sha256))
        throw new InvalidRequestError(
          `${at}.sha256`,
          `${JSON.stringify(file.sha256)} is not 64 lower-case hex characters`,
        );
      if (file.url === '') throw new InvalidRequestError(`${at}.url`, 'is required');
    }
  }
  return assets;
}

/** Validates a Run request (docs/protocol.md). @throws InvalidRequestError naming the field. */
export function parseRunRequest(request: atelet.RunRequest): RunCall {
  const { workerUid, actor } = actorOf(request);
  return {
    workerUid,
    actor,
    spec: specOf(request.spec, { required: true }),
    assets: assetsOf(request.sandboxAssets),
  };
}

/** Validates a Checkpoint request; its spec is optional (atelet remembers what it runs). */
export function parseCheckpointRequest(request: atelet.CheckpointRequest): CheckpointCall {
  const { workerUid, actor } = actorOf(request);
  const target = targetOf(request);
  const scope = scopeOf(request.scope);
  specOf(request.spec, { required: false });
  return { workerUid, actor, target, scope };
}

/** Validates a Restore request. */
export function parseRestoreRequest(request: atelet.RestoreRequest): RestoreCall {
  const { workerUid, actor } = actorOf(request);
  const target = targetOf(request);
  const scope = scopeOf(request.scope);
  return { workerUid, actor, target, scope, spec: specOf(request.spec, { required: true }) };
}

/** `<ns>:<template>:<id>`, prefixed with `<atespace>:` when set: the actor's directory name (as ateom's). */
export function actorKey(actor: ActorRef): string {
  const parts = [actor.templateNamespace, actor.templateName, actor.actorId];
  return (actor.atespace === '' ? parts : [actor.atespace, ...parts]).join(':');
}
