// Curated public surface of package `atelet` (exported from the barrel as the namespace `atelet`).
// Map-entry helper messages and ts-proto's internal helpers are left out on purpose; barrel.spec.ts
// fails when a new generated message, enum or service is not listed here.
export {
  // Service: grpc-js definition (also served by Nest), handler interface, typed client.
  AteomHerderClient,
  type AteomHerderServer,
  AteomHerderService,
  // Requests and responses.
  CheckpointRequest,
  CheckpointResponse,
  RestoreRequest,
  RestoreResponse,
  RunRequest,
  RunResponse,
  // Messages and enums.
  ArchAssets,
  AssetFile,
  CheckpointType,
  checkpointTypeFromJSON,
  checkpointTypeToJSON,
  Container,
  DurableDirVolume,
  EnvEntry,
  ExternalCheckpointConfiguration,
  HTTPGetAction,
  LocalCheckpointConfiguration,
  Readyz,
  SandboxAssets,
  SnapshotScope,
  snapshotScopeFromJSON,
  snapshotScopeToJSON,
  Volume,
  VolumeMount,
  VolumeType,
  volumeTypeFromJSON,
  volumeTypeToJSON,
  WorkloadSpec,
} from '../generated/atelet/atelet';
