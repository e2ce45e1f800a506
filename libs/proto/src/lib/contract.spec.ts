// The protocol contract: the descriptors compiled from our .proto files (by `buf build`) must contain
// every message field, enum value, reserved number and RPC of upstream Agent Substrate exactly as
// listed below (transcribed from the upstream reference, control plane §1.2–1.5), and anything we
// add must follow the numbering policy: new fields in upstream messages use numbers >= 100; new
// messages, enums and RPCs are free.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { PROTO_DIR } from '../index';

const WORKSPACE_ROOT = resolve(PROTO_DIR, '../../..');
const LIB_DIR = resolve(PROTO_DIR, '..');
const BUF = join(WORKSPACE_ROOT, 'node_modules/.bin/buf');

// One row per fact. Fields: `<Message> <number> <name> <type>[ oneof:<name>]`; reserved numbers:
// `<Message> reserved <number>`; enum values: `enum <Enum> <NAME> <number>`; RPCs:
// `rpc <Service>/<Method> <Request> <Response>`. Names are relative to the package. Message names are
// not on the wire; the request/response names follow the `<Method>Request`/`<Method>Response` rule.
const UPSTREAM: Record<'ateapi' | 'atelet' | 'ateom', string> = {
  ateapi: `
    ActorRef 1 atespace string
    ActorRef 2 name string
    Selector 1 match_labels map<string,string>
    Atespace 1 name string
    enum SnapshotType SNAPSHOT_TYPE_UNSPECIFIED 0
    enum SnapshotType SNAPSHOT_TYPE_LOCAL 1
    enum SnapshotType SNAPSHOT_TYPE_EXTERNAL 2
    ExternalSnapshotInfo 1 snapshot_uri_prefix string
    LocalSnapshotInfo 1 snapshot_prefix string
    LocalSnapshotInfo 2 node_vms_with_local_snapshots repeated string
    SnapshotInfo 1 type SnapshotType
    SnapshotInfo 2 external ExternalSnapshotInfo oneof:data
    SnapshotInfo 3 local LocalSnapshotInfo oneof:data
    Actor 1 actor_id string
    Actor 2 version int64
    Actor 3 actor_template_namespace string
    Actor 4 actor_template_name string
    Actor 5 status Actor.Status
    Actor 6 ateom_pod_namespace string
    Actor 7 ateom_pod_name string
    Actor 8 ateom_pod_ip string
    Actor reserved 9
    Actor 10 in_progress_snapshot string
    Actor 11 ateom_pod_uid string
    Actor 12 latest_snapshot_info SnapshotInfo
    Actor 13 worker_selector Selector
    Actor 14 worker_pool_name string
    Actor 15 atespace string
    enum Actor.Status STATUS_UNSPECIFIED 0
    enum Actor.Status STATUS_RESUMING 1
    enum Actor.Status STATUS_RUNNING 2
    enum Actor.Status STATUS_SUSPENDING 3
    enum Actor.Status STATUS_SUSPENDED 4
    enum Actor.Status STATUS_PAUSING 5
    enum Actor.Status STATUS_PAUSED 6
    Worker 1 worker_namespace string
    Worker 2 worker_pool string
    Worker 3 worker_pod string
    Worker 4 actor_namespace string
    Worker 5 actor_template string
    Worker 6 actor_id string
    Worker 7 ip string
    Worker 8 version int64
    Worker 9 worker_pod_uid string
    Worker 10 node_name string
    Worker 11 actor_atespace string

    rpc Control/GetActor GetActorRequest GetActorResponse
    GetActorRequest 1 actor_ref ActorRef
    GetActorResponse 1 actor Actor
    rpc Control/CreateActor CreateActorRequest CreateActorResponse
    CreateActorRequest 1 actor_ref ActorRef
    CreateActorRequest 2 actor_template_namespace string
    CreateActorRequest 3 actor_template_name string
    CreateActorRequest 4 worker_selector Selector
    CreateActorResponse 1 actor Actor
    rpc Control/UpdateActor UpdateActorRequest UpdateActorResponse
    UpdateActorRequest 1 actor_ref ActorRef
    UpdateActorRequest 2 worker_selector Selector
    UpdateActorResponse 1 actor Actor
    rpc Control/SuspendActor SuspendActorRequest SuspendActorResponse
    SuspendActorRequest 1 actor_ref ActorRef
    SuspendActorResponse 1 actor Actor
    rpc Control/PauseActor PauseActorRequest PauseActorResponse
    PauseActorRequest 1 actor_ref ActorRef
    PauseActorResponse 1 actor Actor
    rpc Control/ResumeActor ResumeActorRequest ResumeActorResponse
    ResumeActorRequest 1 actor_ref ActorRef
    ResumeActorRequest 2 boot bool
    ResumeActorResponse 1 actor Actor
    rpc Control/DeleteActor DeleteActorRequest DeleteActorResponse
    DeleteActorRequest 1 actor_ref ActorRef
    rpc Control/ListWorkers ListWorkersRequest ListWorkersResponse
    ListWorkersResponse 1 workers repeated Worker
    rpc Control/ListActors ListActorsRequest ListActorsResponse
    ListActorsRequest 1 page_size int32
    ListActorsRequest 2 page_token string
    ListActorsRequest 3 atespace string
    ListActorsResponse 1 actors repeated Actor
    ListActorsResponse 2 next_page_token string
    rpc Control/CreateAtespace CreateAtespaceRequest CreateAtespaceResponse
    CreateAtespaceRequest 1 name string
    CreateAtespaceResponse 1 atespace Atespace
    rpc Control/GetAtespace GetAtespaceRequest GetAtespaceResponse
    GetAtespaceRequest 1 name string
    GetAtespaceResponse 1 atespace Atespace
    rpc Control/ListAtespaces ListAtespacesRequest ListAtespacesResponse
    ListAtespacesResponse 1 atespaces repeated Atespace
    rpc Control/DeleteAtespace DeleteAtespaceRequest DeleteAtespaceResponse
    DeleteAtespaceRequest 1 name string
    rpc Control/DebugClear DebugClearRequest DebugClearResponse

    rpc SessionIdentity/MintJWT MintJWTRequest MintJWTResponse
    MintJWTRequest 1 audience repeated string
    MintJWTRequest 2 app_id string
    MintJWTRequest 3 user_id string
    MintJWTRequest 4 session_id string
    MintJWTResponse 1 session_jwt string
    rpc SessionIdentity/MintCert MintCertRequest MintCertResponse
    MintCertRequest 1 app_id string
    MintCertRequest 2 user_id string
    MintCertRequest 3 session_id string
    MintCertRequest 4 certificate_signing_request bytes
    MintCertResponse 1 session_certificates repeated bytes
  `,
  atelet: `
    rpc AteomHerder/Run RunRequest RunResponse
    rpc AteomHerder/Checkpoint CheckpointRequest CheckpointResponse
    rpc AteomHerder/Restore RestoreRequest RestoreResponse
    RunRequest 1 target_ateom_uid string
    RunRequest 3 actor_template_namespace string
    RunRequest 4 actor_template_name string
    RunRequest 5 actor_id string
    RunRequest 7 spec WorkloadSpec
    RunRequest reserved 8
    RunRequest 9 sandbox_assets SandboxAssets
    CheckpointRequest 1 target_ateom_uid string
    CheckpointRequest 3 actor_template_namespace string
    CheckpointRequest 4 actor_template_name string
    CheckpointRequest 5 actor_id string
    CheckpointRequest reserved 6
    CheckpointRequest 7 spec WorkloadSpec
    CheckpointRequest reserved 8
    CheckpointRequest 9 type CheckpointType
    CheckpointRequest 10 local_config LocalCheckpointConfiguration oneof:config
    CheckpointRequest 11 external_config ExternalCheckpointConfiguration oneof:config
    CheckpointRequest 12 scope SnapshotScope
    RestoreRequest 1 target_ateom_uid string
    RestoreRequest 3 actor_template_namespace string
    RestoreRequest 4 actor_template_name string
    RestoreRequest 5 actor_id string
    RestoreRequest reserved 6
    RestoreRequest 7 spec WorkloadSpec
    RestoreRequest reserved 8
    RestoreRequest 9 type CheckpointType
    RestoreRequest 10 local_config LocalCheckpointConfiguration oneof:config
    RestoreRequest 11 external_config ExternalCheckpointConfiguration oneof:config
    RestoreRequest 12 scope SnapshotScope
    SandboxAssets 1 sandbox_class string
    SandboxAssets 2 assets map<string,atelet.ArchAssets>
    ArchAssets 1 files map<string,atelet.AssetFile>
    AssetFile 1 url string
    AssetFile 2 sha256 string
    WorkloadSpec 1 containers repeated Container
    WorkloadSpec 2 pause_image string
    WorkloadSpec 3 volumes repeated Volume
    Container 1 name string
    Container 2 image string
    Container 3 command repeated string
    Container 4 env repeated EnvEntry
    Container 5 readyz Readyz
    Container 6 volume_mounts repeated VolumeMount
    EnvEntry 1 name string
    EnvEntry 2 value string
    Readyz 1 http_get HTTPGetAction
    HTTPGetAction 1 path string
    HTTPGetAction 2 port int32
    Volume 1 name string
    Volume 2 type VolumeType
    Volume 3 durable_dir DurableDirVolume oneof:source
    VolumeMount 1 name string
    VolumeMount 2 mount_path string
    LocalCheckpointConfiguration 1 snapshot_prefix string
    ExternalCheckpointConfiguration 1 snapshot_uri_prefix string
    enum VolumeType VOLUME_TYPE_UNSPECIFIED 0
    enum VolumeType VOLUME_TYPE_DURABLE_DIR 1
    enum CheckpointType CHECKPOINT_TYPE_UNSPECIFIED 0
    enum CheckpointType CHECKPOINT_TYPE_LOCAL 1
    enum CheckpointType CHECKPOINT_TYPE_EXTERNAL 2
    enum SnapshotScope SNAPSHOT_SCOPE_UNSPECIFIED 0
    enum SnapshotScope SNAPSHOT_SCOPE_FULL 1
    enum SnapshotScope SNAPSHOT_SCOPE_DATA 2
  `,
  ateom: `
    rpc Ateom/RunWorkload RunWorkloadRequest RunWorkloadResponse
    rpc Ateom/CheckpointWorkload CheckpointWorkloadRequest CheckpointWorkloadResponse
    rpc Ateom/RestoreWorkload RestoreWorkloadRequest RestoreWorkloadResponse
    RunWorkloadRequest 1 actor_template_namespace string
    RunWorkloadRequest 2 actor_template_name string
    RunWorkloadRequest 3 actor_id string
    RunWorkloadRequest 4 runsc_path string
    RunWorkloadRequest 5 spec WorkloadSpec
    RunWorkloadRequest 7 runtime_asset_paths map<string,string>
    CheckpointWorkloadRequest 1 actor_template_namespace string
    CheckpointWorkloadRequest 2 actor_template_name string
    CheckpointWorkloadRequest 3 actor_id string
    CheckpointWorkloadRequest 4 runsc_path string
    CheckpointWorkloadRequest 5 spec WorkloadSpec
    CheckpointWorkloadRequest 6 snapshot_uri_prefix string
    CheckpointWorkloadRequest 7 runtime_asset_paths map<string,string>
    CheckpointWorkloadRequest 8 scope SnapshotScope
    CheckpointWorkloadResponse 1 snapshot_files repeated string
    RestoreWorkloadRequest 1 actor_template_namespace string
    RestoreWorkloadRequest 2 actor_template_name string
    RestoreWorkloadRequest 3 actor_id string
    RestoreWorkloadRequest 4 runsc_path string
    RestoreWorkloadRequest 5 spec WorkloadSpec
    RestoreWorkloadRequest 6 snapshot_uri_prefix string
    RestoreWorkloadRequest 7 runtime_asset_paths map<string,string>
    RestoreWorkloadRequest 8 scope SnapshotScope
    WorkloadSpec 1 containers repeated Container
    Container 1 name string
    Container 2 readyz Readyz
    Container 3 durable_dir_volumes repeated string
    Readyz 1 http_get HTTPGetAction
    HTTPGetAction 1 path string
    HTTPGetAction 2 port int32
    enum SnapshotScope SNAPSHOT_SCOPE_UNSPECIFIED 0
    enum SnapshotScope SNAPSHOT_SCOPE_FULL 1
    enum SnapshotScope SNAPSHOT_SCOPE_DATA 2
  `,
};

/** Services and their package, which upstream clients address as `/<package>.<Service>/<Method>`. */
const UPSTREAM_SERVICES = ['ateapi.Control', 'ateapi.SessionIdentity', 'atelet.AteomHerder', 'ateom.Ateom'];

/** Services we add; upstream peers never call them. */
const ADDED_SERVICES = ['ateapi.WorkerRegistry'];

/** Everything we add to package ateapi, beyond the upstream table: review each line against the policy. */
const ATEAPI_ADDITIONS = `
    Actor 100 status_changed_unix_ms int64
    Actor 101 ateom_pod_port int32
    Actor 102 annotations map<string,string>
    Actor 103 idle_suspend_after_ms int64
    CreateActorRequest 100 annotations map<string,string>
    Worker 100 atelet_endpoint string
    Worker 101 claimed_unix_ms int64
    Worker 102 lease_expires_unix_ms int64
    Worker 103 http_port int32
    WorkerRegistration 1 worker_namespace string
    WorkerRegistration 2 worker_pool string
    WorkerRegistration 3 worker_pod string
    WorkerRegistration 4 ip string
    WorkerRegistration 5 worker_pod_uid string
    WorkerRegistration 6 http_port int32
    ReportWorkersRequest 1 node_name string
    ReportWorkersRequest 2 atelet_endpoint string
    ReportWorkersRequest 3 workers repeated WorkerRegistration
    ReportWorkersRequest 4 lease_seconds int32
    ReportWorkersResponse 1 lease_seconds int32
    ReportWorkersResponse 2 added int32
    ReportWorkersResponse 3 removed int32
    rpc WorkerRegistry/ReportWorkers ReportWorkersRequest ReportWorkersResponse
`;

// --- descriptor flattening -------------------------------------------------------------------------

interface FieldDescriptor {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName?: string;
  oneofIndex?: number;
  proto3Optional?: boolean;
}
interface MessageDescriptor {
  name: string;
  field?: FieldDescriptor[];
  nestedType?: MessageDescriptor[];
  enumType?: EnumDescriptor[];
  oneofDecl?: Array<{ name: string }>;
  reservedRange?: Array<{ start: number; end: number }>;
  options?: { mapEntry?: boolean };
}
interface EnumDescriptor {
  name: string;
  value: Array<{ name: string; number: number }>;
}
interface FileDescriptor {
  name: string;
  package: string;
  messageType?: MessageDescriptor[];
  enumType?: EnumDescriptor[];
  service?: Array<{
    name: string;
    method: Array<{
      name: string;
      inputType: string;
      outputType: string;
      clientStreaming?: boolean;
      serverStreaming?: boolean;
    }>;
  }>;
}

/** A flattened fact about a package: its rendered row plus what the numbering policy needs. */
interface Row {
  text: string;
  kind: 'field' | 'reserved' | 'enum' | 'rpc';
  /** Message or enum (package-relative) the row belongs to; the service for RPCs. */
  owner: string;
  number: number;
}

function buildDescriptors(): FileDescriptor[] {
  const json = execFileSync(BUF, ['build', LIB_DIR, '-o', '-#format=json'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(json) as { file: FileDescriptor[] }).file;
}

function flatten(file: FileDescriptor): Row[] {
  const pkgPrefix = `.${file.package}.`;
  const relative = (typeName: string): string =>
    typeName.startsWith(pkgPrefix) ? typeName.slice(pkgPrefix.length) : typeName.replace(/^\./, '');
  const rows: Row[] = [];

  const enumRows = (enumType: EnumDescriptor, owner: string): void => {
    for (const value of enumType.value) {
      rows.push({
        text: `enum ${owner} ${value.name} ${value.number}`,
        kind: 'enum',
        owner,
        number: value.number,
      });
    }
  };

  const messageRows = (message: MessageDescriptor, scope: string): void => {
    const owner = scope + message.name;
    const mapEntries = new Map<string, MessageDescriptor>();
    for (const nested of message.nestedType ?? []) {
      if (nested.options?.mapEntry) {
        mapEntries.set(`${pkgPrefix}${owner}.${nested.name}`, nested);
      } else {
        messageRows(nested, `${owner}.`);
      }
    }
    for (const enumType of message.enumType ?? []) {
      enumRows(enumType, `${owner}.${enumType.name}`);
    }
    for (const range of message.reservedRange ?? []) {
      for (let number = range.start; number < range.end; number++) {
        rows.push({ text: `${owner} reserved ${number}`, kind: 'reserved', owner, number });
      }
    }
    for (const field of message.field ?? []) {
      rows.push({
        text: `${owner} ${field.number} ${field.name} ${fieldType(field)}`,
        kind: 'field',
        owner,
        number: field.number,
      });
    }

    function fieldType(field: FieldDescriptor): string {
      const base = (f: FieldDescriptor): string =>
        f.typeName ? relative(f.typeName) : f.type.replace(/^TYPE_/, '').toLowerCase();
      const entry = field.typeName ? mapEntries.get(field.typeName) : undefined;
      let type: string;
      if (entry) {
        const [key, value] = entry.field ?? [];
        if (!key || !value) throw new Error(`malformed map entry ${field.typeName}`);
        // Map value types are written fully qualified so the row is unambiguous.
        type = `map<${base(key)},${value.typeName ? value.typeName.replace(/^\./, '') : base(value)}>`;
      } else {
        type = (field.label === 'LABEL_REPEATED' ? 'repeated ' : '') + base(field);
      }
      if (field.oneofIndex !== undefined && !field.proto3Optional) {
        type += ` oneof:${message.oneofDecl?.[field.oneofIndex]?.name ?? '?'}`;
      }
      return type;
    }
  };

  for (const enumType of file.enumType ?? []) {
    enumRows(enumType, enumType.name);
  }
  for (const message of file.messageType ?? []) {
    messageRows(message, '');
  }
  for (const service of file.service ?? []) {
    for (const method of service.method) {
      if (method.clientStreaming || method.serverStreaming) {
        throw new Error(`${service.name}/${method.name} streams; every Substrate RPC is unary`);
      }
      rows.push({
        text: `rpc ${service.name}/${method.name} ${relative(method.inputType)} ${relative(method.outputType)}`,
        kind: 'rpc',
        owner: service.name,
        number: 0,
      });
    }
  }
  return rows;
}

function expectedRows(table: string): string[] {
  return table
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line !== '');
}

/** Owner names (messages, enums, services) that exist upstream, from an expected table. */
function upstreamOwners(rows: string[]): Set<string> {
  return new Set(
    rows.map((row) => {
      const words = row.split(' ');
      const owner = words[0] === 'enum' ? words[1] : words[0] === 'rpc' ? words[1]?.split('/')[0] : words[0];
      return owner ?? '';
    }),
  );
}

describe('protocol contract (buf build descriptors)', () => {
  const files = buildDescriptors();
  const byPackage = new Map(files.map((file) => [file.package, file]));

  it('compiles exactly the three protocol files, one package each', () => {
    expect(files.map((f) => `${f.name} ${f.package}`).sort()).toEqual([
      'ateapi/ateapi.proto ateapi',
      'atelet/atelet.proto atelet',
      'ateom/ateom.proto ateom',
    ]);
  });

  it('declares the upstream services under their fully qualified names', () => {
    const services = files.flatMap((file) => (file.service ?? []).map((s) => `${file.package}.${s.name}`));
    expect(services.sort()).toEqual([...UPSTREAM_SERVICES, ...ADDED_SERVICES].sort());
  });

  describe.each(['ateapi', 'atelet', 'ateom'] as const)('package %s', (pkg) => {
    const file = byPackage.get(pkg);
    const rows = file ? flatten(file) : [];
    const expected = expectedRows(UPSTREAM[pkg]);
    const actual = new Set(rows.map((row) => row.text));

    it('contains every upstream field, reserved number, enum value and RPC unchanged', () => {
      expect(file).toBeDefined();
      expect(expected.filter((row) => !actual.has(row))).toEqual([]);
    });

    it('adds fields to upstream messages only at numbers >= 100, and no values to upstream enums', () => {
      const owners = upstreamOwners(expected);
      const known = new Set(expected);
      const violations = rows.filter(
        (row) =>
          !known.has(row.text) &&
          owners.has(row.owner) &&
          ((row.kind === 'field' && row.number < 100) || row.kind === 'enum'),
      );
      expect(violations.map((row) => row.text)).toEqual([]);
    });
  });

  it('adds to ateapi exactly the reviewed additions, nothing else', () => {
    const file = byPackage.get('ateapi');
    const rows = file ? flatten(file).map((row) => row.text) : [];
    const expected = [...expectedRows(UPSTREAM.ateapi), ...expectedRows(ATEAPI_ADDITIONS)];
    // Request/response wrappers without fields (e.g. DeleteActorResponse) produce no rows.
    expect(rows.filter((row) => !expected.includes(row))).toEqual([]);
  });
});
