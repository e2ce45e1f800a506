import { type Assert, type Equals } from '../schema/assert';
import { arr, type InputOf, int32, map, obj, type OutputOf, str } from '../schema/schema';
import {
  type API_VERSION,
  type NodeAffinity,
  nodeAffinitySchema,
  type ResourceRequirements,
  resourcesSchema,
  type SandboxClass,
  sandboxClassSchema,
  type Toleration,
  tolerationSchema,
} from './common';
import { type ObjectMeta } from './meta';

/** Scheduling and resources of a pool's worker pods. */
export interface WorkerPoolPodTemplate {
  /** Merged into the worker pods' node selector. */
  nodeSelector?: Record<string, string>;
  /** At most 16. */
  tolerations?: Toleration[];
  priorityClassName?: string;
  nodeAffinity?: NodeAffinity;
  /** Requests and limits of the `ateom` container. */
  resources?: ResourceRequirements;
}

/** Desired state of a WorkerPool. */
export interface WorkerPoolSpec {
  /** Number of workers (pods of the pool's Deployment). Minimum 0. */
  replicas: number;
  /** Image of the per-worker supervisor (ateom). */
  ateomImage: string;
  template?: WorkerPoolPodTemplate;
  /** Defaults to `gvisor`. Only templates of the same class run on this pool. */
  sandboxClass: SandboxClass;
  /** Cluster SandboxConfig used for cold boots; its class must equal the pool's. Else the class default. */
  sandboxConfigName?: string;
}

/** Observed state of a WorkerPool. */
export interface WorkerPoolStatus {
  /** Mirrored from the Deployment's `status.replicas`. */
  replicas?: number;
}

/**
 * A pool of pre-started workers of one sandbox class. Its `metadata.labels` are what
 * `ActorTemplate.spec.workerSelector` and an actor's worker selector match.
 */
export interface WorkerPool {
  apiVersion: typeof API_VERSION;
  kind: 'WorkerPool';
  metadata: ObjectMeta;
  spec: WorkerPoolSpec;
  status?: WorkerPoolStatus;
}

export const workerPoolSpecSchema = obj(
  {
    replicas: int32({ minimum: 0, description: 'Number of worker pods.' }),
    ateomImage: str({ minLength: 1, description: 'Image of the ateom worker supervisor.' }),
    template: obj(
      {
        nodeSelector: map(str(), { description: 'Node selector of the worker pods.' }),
        tolerations: arr(tolerationSchema, {
          maxItems: 16,
          listType: 'atomic',
          description: 'Tolerations of the worker pods.',
        }),
        priorityClassName: str({ description: 'Priority class of the worker pods.' }),
        nodeAffinity: nodeAffinitySchema,
        resources: resourcesSchema,
      },
      { description: 'Scheduling and resources of the worker pods.' },
    ),
    sandboxClass: sandboxClassSchema(
      'Sandbox runtime family of this pool. Only ActorTemplates of the same class are scheduled here.',
    ),
    sandboxConfigName: str({
      description:
        'Name of the cluster-scoped SandboxConfig used for cold boots; its sandboxClass must match. Defaults to the default config of the class.',
    }),
  },
  { required: ['replicas', 'ateomImage'], description: 'Desired state of the WorkerPool.' },
);

export const workerPoolStatusSchema = obj(
  { replicas: int32({ minimum: 0, description: "Replicas of the pool's Deployment." }) },
  { description: 'Observed state of the WorkerPool.' },
);

/** What a WorkerPool manifest may contain for `spec` (defaulted fields optional). */
export type WorkerPoolSpecInput = InputOf<typeof workerPoolSpecSchema>;

type _WorkerPoolChecks = [
  Assert<Equals<WorkerPoolSpec, OutputOf<typeof workerPoolSpecSchema>>>,
  Assert<Equals<WorkerPoolStatus, OutputOf<typeof workerPoolStatusSchema>>>,
];
