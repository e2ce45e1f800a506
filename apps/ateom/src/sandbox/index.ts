export {
  DEFAULT_NETWORK_LAYOUT,
  MAX_ENDPOINT_INDEX,
  endpointAddresses,
  isLoopbackOrLinkLocal,
  validateLayout,
  type NetworkLayout,
} from './addresses';
export {
  ACTOR_ID_PATH,
  CONTAINER_NAME_ANNOTATION,
  CONTAINER_TYPE_ANNOTATION,
  SANDBOX_ID_ANNOTATION,
  buildOciSpec,
  roleAnnotations,
  validateActorId,
  writeActorIdentity,
  writeBundle,
  type BundleSpec,
  type ContainerRole,
  type DurableMount,
} from './bundle';
export { runCommand, type CommandOptions, type CommandResult } from './command';
export {
  AddressInUseError,
  CommandFailedError,
  CommandTimeoutError,
  InvalidAddressError,
  InvalidNameError,
  InvalidSpecError,
  InvalidRequestError,
  InvalidStateError,
  MissingInputError,
  NetworkSetupError,
  NotReadyError,
  OpenConnectionError,
  RunscError,
  RuntimeMismatchError,
  SandboxError,
  WorkerBusyError,
  type SandboxErrorCode,
} from './errors';
export { NETNS_DIR, NetnsManager, networkNames, validateWorkerName, type SandboxNetwork } from './netns';
export { probeUrl, waitUntilReady, type Readiness, type ReadinessProbe } from './readyz';
export {
  DEFAULT_RUNSC_TIMEOUTS,
  PROC_SYS_NET_WORKAROUND_SCRIPT,
  RunscDriver,
  needsProcSysNetWorkaround,
  openConnectionIn,
  resolveProcSysNetWorkaround,
  validateContainerId,
  type CheckpointImage,
  type RunscContainer,
  type RunscDriverOptions,
  type RunscState,
  type RunscTimeouts,
  type SandboxOutput,
} from './runsc';
export {
  WorkerSandbox,
  singleContainer,
  type ActorProcess,
  type SandboxContainer,
  type SandboxWorkload,
  type SandboxStarted,
  type StartOptions,
  type WorkerSandboxOptions,
} from './worker-sandbox';
