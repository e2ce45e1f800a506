import { type AnySchema, obj, str } from '../schema/schema';
import { type ActorTemplate, actorTemplateSpecSchema, actorTemplateStatusSchema } from './actortemplate';
import { objectMetaSchema } from './meta';
import {
  type AdmissionRule,
  type SandboxConfig,
  sandboxConfigAssetRules,
  sandboxConfigSpecSchema,
} from './sandboxconfig';
import { type WorkerPool, workerPoolSpecSchema, workerPoolStatusSchema } from './workerpool';

/** Any Substrate custom resource. */
export type SubstrateObject = WorkerPool | ActorTemplate | SandboxConfig;
/** Kinds served by `ate.dev/v1alpha1`. */
export type Kind = SubstrateObject['kind'];
/** The object type of a kind. */
export type ObjectOfKind<K extends Kind> = Extract<SubstrateObject, { kind: K }>;

/** A column of `kubectl get`. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: 'integer' | 'string' | 'boolean' | 'date';
  readonly jsonPath: string;
}

/** Everything the CRD of a kind and the runtime validator need. */
export interface KindInfo<K extends Kind = Kind> {
  readonly kind: K;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly scope: 'Namespaced' | 'Cluster';
  /** Root schema: apiVersion, kind, metadata, spec, status. */
  readonly schema: AnySchema;
  readonly printerColumns: readonly PrinterColumn[];
  readonly subresources: {
    readonly status?: true;
    readonly scale?: { readonly specReplicasPath: string; readonly statusReplicasPath: string };
  };
  /** ValidatingAdmissionPolicy rules that apply on top of the CRD schema. */
  readonly admissionRules: readonly AdmissionRule<SubstrateObject>[];
}

const root = (description: string, spec: AnySchema, status?: AnySchema) =>
  obj(
    {
      apiVersion: str({ description: 'Versioned schema of this representation of an object.' }),
      kind: str({ description: 'REST resource this object represents.' }),
      metadata: objectMetaSchema,
      spec,
      ...(status ? { status } : {}),
    },
    { required: ['spec'], description },
  );

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const workerPoolKind: KindInfo<'WorkerPool'> = {
  kind: 'WorkerPool',
  plural: 'workerpools',
  singular: 'workerpool',
  shortNames: ['workerpool'],
  scope: 'Namespaced',
  schema: root(
    'WorkerPool is a pool of pre-started workers of one sandbox class that actors are restored onto.',
    workerPoolSpecSchema,
    workerPoolStatusSchema,
  ),
  printerColumns: [
    { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas' },
    age,
  ],
  subresources: {
    status: true,
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
  },
  admissionRules: [],
};

export const actorTemplateKind: KindInfo<'ActorTemplate'> = {
  kind: 'ActorTemplate',
  plural: 'actortemplates',
  singular: 'actortemplate',
  shortNames: ['actortemplate'],
  scope: 'Namespaced',
  schema: root(
    'ActorTemplate is the immutable workload definition actors are created from.',
    actorTemplateSpecSchema,
    actorTemplateStatusSchema,
  ),
  printerColumns: [{ name: 'Class', type: 'string', jsonPath: '.spec.sandboxClass' }],
  subresources: { status: true },
  admissionRules: [],
};

export const sandboxConfigKind: KindInfo<'SandboxConfig'> = {
  kind: 'SandboxConfig',
  plural: 'sandboxconfigs',
  singular: 'sandboxconfig',
  shortNames: ['sandboxconfig'],
  scope: 'Cluster',
  schema: root(
    'SandboxConfig pins the runtime binaries (assets) of one sandbox class, per architecture.',
    sandboxConfigSpecSchema,
  ),
  printerColumns: [
    { name: 'Class', type: 'string', jsonPath: '.spec.sandboxClass' },
    { name: 'Default', type: 'boolean', jsonPath: '.spec.default' },
    age,
  ],
  subresources: {},
  admissionRules: sandboxConfigAssetRules,
};

/** The three kinds, by name. */
export const KINDS: { readonly [K in Kind]: KindInfo<K> } = {
  ActorTemplate: actorTemplateKind,
  SandboxConfig: sandboxConfigKind,
  WorkerPool: workerPoolKind,
};
