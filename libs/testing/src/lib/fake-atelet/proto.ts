// The fake atelet speaks the contracts in libs/proto/proto, loaded with @grpc/proto-loader from the
// .proto sources. It does not import @substrate/proto: that library's own tests use this harness, and
// Nx forbids the project cycle. The wire format is the same; the shapes below are what proto-loader
// produces with PROTO_LOADER_OPTIONS (lowerCamelCase fields, enums and int64 as numbers, defaults set,
// the set member of a oneof present and the others null).
import { join } from 'node:path';
import { type GrpcObject, loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { REPO_ROOT } from '../tools';

/** Where the .proto sources live (the `PROTO_DIR` of @substrate/proto). */
export const PROTO_SOURCE_DIR = join(REPO_ROOT, 'libs', 'proto', 'proto');

const PROTO_LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: Number,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_SOURCE_DIR],
};

/** `atelet.CheckpointType` / `atelet.SnapshotScope` values atelet's validation looks at. */
export const CHECKPOINT_TYPE_LOCAL = 1;
export const CHECKPOINT_TYPE_EXTERNAL = 2;
export const SNAPSHOT_SCOPE_FULL = 1;
export const SNAPSHOT_SCOPE_DATA = 2;

/**
 * The fields of `atelet.RunRequest`, `RestoreRequest` and `CheckpointRequest` the fake atelet reads
 * (Run has no type, scope or config).
 */
export interface AteletRequest {
  readonly targetAteomUid: string;
  readonly actorTemplateNamespace: string;
  readonly actorTemplateName: string;
  readonly actorId: string;
  readonly actorAtespace: string;
  readonly spec?: { readonly containers?: readonly { readonly name: string }[] | null } | null;
  readonly type?: number;
  readonly scope?: number;
  readonly localConfig?: { readonly snapshotPrefix: string } | null;
  readonly externalConfig?: { readonly snapshotUriPrefix: string } | null;
}

/** `ateapi.WorkerRegistration`: one worker as its atelet reports it (assignable to and from the generated type). */
export interface FakeWorkerRegistration {
  /** Namespace of the worker's pool. */
  workerNamespace: string;
  /** Name of the WorkerPool. */
  workerPool: string;
  /** Name of the worker (pod name); unique within the pool. */
  workerPod: string;
  /** Address the router forwards the actor's traffic to. */
  ip: string;
  /** UID of the worker: atelet's `target_ateom_uid`. */
  workerPodUid: string;
  /** TCP port of the worker's HTTP endpoint; 0 means 80. */
  httpPort: number;
}

/** `ateapi.ReportWorkersResponse`. */
export interface FakeReportWorkersResponse {
  leaseSeconds: number;
  added: number;
  removed: number;
}

/** The gRPC service constructors (clients; `.service` is the server definition) of the contracts the fake atelet uses. */
export interface FakeAteletProtos {
  readonly AteomHerder: ServiceClientConstructor;
  readonly WorkerRegistry: ServiceClientConstructor;
}

/** Loads `atelet.AteomHerder` and `ateapi.WorkerRegistry` from the .proto sources. */
export function loadFakeAteletProtos(): FakeAteletProtos {
  const definition = loadSync(['atelet/atelet.proto', 'ateapi/ateapi.proto'], PROTO_LOADER_OPTIONS);
  const grpcObject = loadPackageDefinition(definition);
  const service = (pkg: string, name: string): ServiceClientConstructor => {
    const constructor = (grpcObject[pkg] as GrpcObject | undefined)?.[name];
    if (typeof constructor !== 'function') throw new Error(`${pkg}.${name} is not in ${PROTO_SOURCE_DIR}`);
    return constructor;
  };
  return {
    AteomHerder: service('atelet', 'AteomHerder'),
    WorkerRegistry: service('ateapi', 'WorkerRegistry'),
  };
}
