// @substrate/api — WorkerPool, ActorTemplate and SandboxConfig (ate.dev/v1alpha1): types, defaults,
// validation equal to the CRDs and their CEL rules, YAML/JSON parsing, and the CRD generator.

export { API_GROUP, API_VERSION, SANDBOX_CLASSES } from './v1alpha1/common';
export type {
  Condition,
  LabelSelector,
  LabelSelectorRequirement,
  NodeAffinity,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PreferredSchedulingTerm,
  ResourceRequirements,
  SandboxClass,
  Toleration,
} from './v1alpha1/common';
export type { ObjectMeta, OwnerReference } from './v1alpha1/meta';
export type {
  WorkerPool,
  WorkerPoolPodTemplate,
  WorkerPoolSpec,
  WorkerPoolSpecInput,
  WorkerPoolStatus,
} from './v1alpha1/workerpool';
export type {
  ActorTemplate,
  ActorTemplatePhase,
  ActorTemplateSpec,
  ActorTemplateSpecInput,
  ActorTemplateStatus,
  Container,
  ContainerReadyz,
  DurableDirVolumeSource,
  EnvVar,
  EnvVarSource,
  HTTPGetAction,
  RunscBinary,
  SecretKeySelector,
  SnapshotScope,
  SnapshotsConfig,
  Volume,
  VolumeMount,
  WorkerPoolRef,
} from './v1alpha1/actortemplate';
export { MICROVM_ASSETS } from './v1alpha1/sandboxconfig';
export type {
  AssetFile,
  SandboxConfig,
  SandboxConfigSpec,
  SandboxConfigSpecInput,
} from './v1alpha1/sandboxconfig';
export type { Kind, ObjectOfKind, SubstrateObject } from './v1alpha1/kinds';
export {
  IDLE_SUSPEND_AFTER_ANNOTATION,
  idleSuspendAfterIssues,
  MIN_IDLE_SUSPEND_AFTER_MS,
  parseIdleSuspendAfter,
  resolveIdleSuspendAfter,
} from './v1alpha1/idle-suspend';
export type { IdleSuspendAfter } from './v1alpha1/idle-suspend';
export { isPoolEligible, matchesLabelSelector, resolveRunsc, workerPoolRefOf } from './v1alpha1/placement';
export type { NamespacedName, ResolvedRunsc } from './v1alpha1/placement';

export { ApiError, formatIssue, ManifestSyntaxError, ValidationError } from './errors';
export type { ApiErrorCode, FieldIssue, FieldIssueType, ManifestSource } from './errors';

export { validateObject, validateObjectOf, validateUpdate } from './manifest/decode';
export type { DecodeOptions } from './manifest/decode';
export {
  parseActorTemplate,
  parseManifests,
  parseSandboxConfig,
  parseWorkerPool,
  toYaml,
} from './manifest/parse';
export type { ParseOptions } from './manifest/parse';
export { loadManifestDir, loadManifestFile } from './manifest/load';

export { customResourceDefinition, renderCrdFiles, sandboxConfigAssetsPolicy } from './crd/crd';
export { KINDS } from './v1alpha1/kinds';
export type { KindInfo, PrinterColumn } from './v1alpha1/kinds';
