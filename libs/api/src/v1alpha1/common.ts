import { type Assert, type Equals } from '../schema/assert';
import {
  arr,
  cel,
  enumOf,
  int32,
  int64,
  intOrString,
  map,
  matches,
  obj,
  type OutputOf,
  str,
} from '../schema/schema';

/** API group of the Substrate CRDs. */
export const API_GROUP = 'ate.dev';
/** The only served version. */
export const API_VERSION = 'ate.dev/v1alpha1';

/** Sandbox runtime family. Snapshots are not portable across classes. */
export type SandboxClass = 'gvisor' | 'microvm';
/** Sandbox classes, in the order the CRDs list them. */
export const SANDBOX_CLASSES: readonly SandboxClass[] = ['gvisor', 'microvm'];

export const sandboxClassSchema = (description: string) =>
  enumOf(SANDBOX_CLASSES, { default: 'gvisor', description });

export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** A DNS-1123 label (≤ 63 characters), checked by CEL as upstream does. */
export const dnsLabel = (description: string, what = 'Name') =>
  str({ description, maxLength: 63, rules: [matches(DNS1123_LABEL, `${what} must be a valid DNS label`)] });

/** A DNS-1123 subdomain (≤ 253 characters), checked by CEL. */
export const dnsSubdomain = (description: string, what = 'Name') =>
  str({
    description,
    maxLength: 253,
    rules: [matches(DNS1123_SUBDOMAIN, `${what} must be a valid DNS subdomain`)],
  });

export const PINNED_IMAGE_MESSAGE = 'All images must be pinned (changing the image invalidates snapshots)';

/** An image reference that must carry a digest (`repo@sha256:…`). */
export const pinnedImage = (description: string) =>
  str({
    description,
    rules: [cel<string>("self.contains('@')", PINNED_IMAGE_MESSAGE, (s) => s.includes('@'))],
  });

// ---- metav1.LabelSelector -------------------------------------------------------------------------

/** A label selector requirement (`metav1.LabelSelectorRequirement`). */
export interface LabelSelectorRequirement {
  key: string;
  /** `In`, `NotIn`, `Exists` or `DoesNotExist` (not checked by the CRD schema). */
  operator: string;
  values?: string[];
}

/** `metav1.LabelSelector`: `matchLabels` and `matchExpressions` are ANDed. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export const labelSelectorSchema = (description: string) =>
  obj(
    {
      matchExpressions: arr(
        obj(
          {
            key: str({ description: 'key is the label key that the selector applies to.' }),
            operator: str({ description: 'operator is one of In, NotIn, Exists and DoesNotExist.' }),
            values: arr(str(), {
              listType: 'atomic',
              description:
                'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist.',
            }),
          },
          { required: ['key', 'operator'] },
        ),
        {
          listType: 'atomic',
          description: 'matchExpressions is a list of label selector requirements (ANDed).',
        },
      ),
      matchLabels: map(str(), { description: 'matchLabels is a map of {key,value} pairs (ANDed).' }),
    },
    { mapType: 'atomic', description },
  );

// ---- corev1 scheduling and resources -------------------------------------------------------------

/** `corev1.Toleration`. */
export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export const tolerationSchema = obj({
  effect: str({
    description: 'Taint effect to match: NoSchedule, PreferNoSchedule or NoExecute; empty matches all.',
  }),
  key: str({
    description: 'Taint key the toleration applies to; empty with operator Exists matches all taints.',
  }),
  operator: str({ description: 'Exists or Equal (default Equal).' }),
  tolerationSeconds: int64({ description: 'How long a NoExecute taint is tolerated before eviction.' }),
  value: str({ description: 'Taint value to match when operator is Equal.' }),
});

/** `corev1.NodeSelectorRequirement`. */
export interface NodeSelectorRequirement {
  key: string;
  /** `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt` or `Lt`. */
  operator: string;
  values?: string[];
}

/** `corev1.NodeSelectorTerm`: its requirements are ANDed. */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/** `corev1.PreferredSchedulingTerm`. */
export interface PreferredSchedulingTerm {
  preference: NodeSelectorTerm;
  weight: number;
}

/** `corev1.NodeAffinity`. */
export interface NodeAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] };
  preferredDuringSchedulingIgnoredDuringExecution?: PreferredSchedulingTerm[];
}

const nodeSelectorRequirements = arr(
  obj(
    {
      key: str({ description: 'The label key that the selector applies to.' }),
      operator: str({ description: 'In, NotIn, Exists, DoesNotExist, Gt or Lt.' }),
      values: arr(str(), { listType: 'atomic' }),
    },
    { required: ['key', 'operator'] },
  ),
  { listType: 'atomic' },
);
const nodeSelectorTerm = obj(
  { matchExpressions: nodeSelectorRequirements, matchFields: nodeSelectorRequirements },
  { mapType: 'atomic', description: 'A null or empty term matches no objects; its requirements are ANDed.' },
);

export const nodeAffinitySchema = obj(
  {
    preferredDuringSchedulingIgnoredDuringExecution: arr(
      obj(
        { preference: nodeSelectorTerm, weight: int32({ description: 'Weight in the range 1-100.' }) },
        { required: ['preference', 'weight'] },
      ),
      { listType: 'atomic', description: 'Nodes matching these terms are preferred.' },
    ),
    requiredDuringSchedulingIgnoredDuringExecution: obj(
      {
        nodeSelectorTerms: arr(nodeSelectorTerm, { listType: 'atomic', description: 'The terms are ORed.' }),
      },
      {
        required: ['nodeSelectorTerms'],
        mapType: 'atomic',
        description: 'Nodes must match one of these terms.',
      },
    ),
  },
  { description: 'Node affinity of the worker pods (corev1.NodeAffinity).' },
);

export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** `corev1.ResourceRequirements`; quantities are strings (`500m`, `1Gi`) or integers. */
export interface ResourceRequirements {
  limits?: Record<string, number | string>;
  requests?: Record<string, number | string>;
  claims?: { name: string; request?: string }[];
}

const quantities = (description: string) => map(intOrString({ pattern: QUANTITY_PATTERN }), { description });

export const resourcesSchema = obj(
  {
    claims: arr(obj({ name: str(), request: str() }, { required: ['name'] }), {
      listType: 'map',
      listMapKeys: ['name'],
      description: 'Dynamically allocated resources (DRA) used by the container.',
    }),
    limits: quantities('Maximum amount of compute resources allowed.'),
    requests: quantities('Minimum amount of compute resources required.'),
  },
  { description: 'Compute resources of the ateom container (corev1.ResourceRequirements).' },
);

// ---- metav1.Condition ------------------------------------------------------------------------------

/** `metav1.Condition`. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export const conditionSchema = obj(
  {
    lastTransitionTime: str({ format: 'date-time', description: 'When the condition last changed status.' }),
    message: str({ maxLength: 32768, description: 'Human readable details; may be empty.' }),
    observedGeneration: int64({ minimum: 0, description: 'metadata.generation the condition was set for.' }),
    reason: str({
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: 'CamelCase reason for the last transition.',
    }),
    status: enumOf(['True', 'False', 'Unknown'] as const, { description: 'Status of the condition.' }),
    type: str({
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      description: 'Type of condition in CamelCase or in foo.example.com/CamelCase.',
    }),
  },
  { required: ['lastTransitionTime', 'message', 'reason', 'status', 'type'] },
);

type _CommonChecks = [
  Assert<Equals<LabelSelector, OutputOf<ReturnType<typeof labelSelectorSchema>>>>,
  Assert<Equals<Toleration, OutputOf<typeof tolerationSchema>>>,
  Assert<Equals<NodeAffinity, OutputOf<typeof nodeAffinitySchema>>>,
  Assert<Equals<ResourceRequirements, OutputOf<typeof resourcesSchema>>>,
  Assert<Equals<Condition, OutputOf<typeof conditionSchema>>>,
];
