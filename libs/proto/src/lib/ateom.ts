// Curated public surface of package `ateom` (exported from the barrel as the namespace `ateom`).
// Map-entry helper messages and ts-proto's internal helpers are left out on purpose; barrel.spec.ts
// fails when a new generated message, enum or service is not listed here.
export {
  // Service: grpc-js definition (also served by Nest), handler interface, typed client.
  AteomClient,
  type AteomServer,
  AteomService,
  // Requests and responses.
  CheckpointWorkloadRequest,
  CheckpointWorkloadResponse,
  RestoreWorkloadRequest,
  RestoreWorkloadResponse,
  RunWorkloadRequest,
  RunWorkloadResponse,
  // Messages and enums.
  Container,
  HTTPGetAction,
  Readyz,
  SnapshotScope,
  snapshotScopeFromJSON,
  snapshotScopeToJSON,
  WorkloadSpec,
} from '../generated/ateom/ateom';
