import { type ActorTemplate } from './actortemplate';
import { type LabelSelector } from './common';
import { type SandboxConfig } from './sandboxconfig';
import { type WorkerPool } from './workerpool';

/** A namespaced object reference. */
export interface NamespacedName {
  readonly namespace: string;
  readonly name: string;
}

/** The WorkerPool a template is pinned to by `spec.workerPoolRef` (namespace defaults to the template's). */
export function workerPoolRefOf(template: ActorTemplate): NamespacedName | undefined {
  const ref = template.spec.workerPoolRef;
  return ref && { namespace: ref.namespace ?? template.metadata.namespace ?? '', name: ref.name };
}

/**
 * Whether `labels` satisfy a `metav1.LabelSelector` (an absent selector matches everything; an
 * unknown operator matches nothing).
 */
export function matchesLabelSelector(
  selector: LabelSelector | undefined,
  labels: Record<string, string> = {},
): boolean {
  if (!selector) return true;
  const has = (key: string) => Object.hasOwn(labels, key);
  return (
    Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return has(key) && values.includes(labels[key] ?? '');
        case 'NotIn':
          return !has(key) || !values.includes(labels[key] ?? '');
        case 'Exists':
          return has(key);
        case 'DoesNotExist':
          return !has(key);
        default:
          return false;
      }
    })
  );
}

/**
 * Whether actors of `template` may run on `pool`. Every placement field is a gate and they are
 * ANDed, so none can widen what another excludes: same `sandboxClass`, pool labels matching
 * `workerSelector`, and — when `workerPoolRef` is set — this exact pool. (An actor's own worker
 * selector narrows further; that is the scheduler's business.)
 */
export function isPoolEligible(template: ActorTemplate, pool: WorkerPool): boolean {
  const ref = workerPoolRefOf(template);
  return (
    pool.spec.sandboxClass === template.spec.sandboxClass &&
    matchesLabelSelector(template.spec.workerSelector, pool.metadata.labels) &&
    (!ref || (ref.namespace === pool.metadata.namespace && ref.name === pool.metadata.name))
  );
}

/** A runsc binary chosen for a cold boot, and where the choice came from. */
export interface ResolvedRunsc {
  readonly url: string;
  readonly sha256: string;
  readonly source: 'ActorTemplate' | 'SandboxConfig';
}

/**
 * The runsc binary for a cold boot (Run) of `template` on a node of architecture `arch` (GOARCH):
 * the template's `spec.runsc[arch]` when present, else the `runsc` asset of the pool's SandboxConfig
 * for that architecture. Restores never consult either: a snapshot records the runsc it was taken with.
 */
export function resolveRunsc(
  template: ActorTemplate,
  arch: string,
  config?: SandboxConfig,
): ResolvedRunsc | undefined {
  const own = template.spec.runsc?.[arch];
  if (own) return { url: own.url, sha256: own.sha256Hash, source: 'ActorTemplate' };
  const asset = config?.spec.assets?.[arch]?.['runsc'];
  return asset && { url: asset.url, sha256: asset.sha256, source: 'SandboxConfig' };
}
