import {
  type ActorTemplate,
  idleSuspendAfterIssues,
  type SandboxConfig,
  ValidationError,
  type WorkerPool,
} from '@substrate/api';

/**
 * Where ateapi reads the declarative configuration: ActorTemplates, WorkerPools and SandboxConfigs.
 * Locally a directory of the same CRD YAML; in Kubernetes, informers (a later adapter). Reads are from
 * memory: the catalog is a cache the adapter keeps current.
 */
export interface Catalog {
  getTemplate(namespace: string, name: string): ActorTemplate | undefined;
  listTemplates(): readonly ActorTemplate[];
  listPools(): readonly WorkerPool[];
  getPool(namespace: string, name: string): WorkerPool | undefined;
  listSandboxConfigs(): readonly SandboxConfig[];
}

/** Nest injection token of the {@link Catalog}. */
export const CATALOG = Symbol('Catalog');

/** An in-memory catalog holding a fixed set of objects; the base of the file adapter. */
export class MemoryCatalog implements Catalog {
  private templates = new Map<string, ActorTemplate>();
  private pools = new Map<string, WorkerPool>();
  private sandboxConfigs: SandboxConfig[] = [];

  constructor(objects: readonly (ActorTemplate | WorkerPool | SandboxConfig)[] = []) {
    this.replace(objects);
  }

  /**
   * Replaces every object at once (a reload). Throws a ValidationError, keeping the previous objects,
   * when a template carries an annotation ateapi reads with an invalid value (the CRD cannot check
   * annotations, so ateapi does).
   */
  replace(objects: readonly (ActorTemplate | WorkerPool | SandboxConfig | { kind: string })[]): void {
    const templates = new Map<string, ActorTemplate>();
    const pools = new Map<string, WorkerPool>();
    const sandboxConfigs: SandboxConfig[] = [];
    for (const object of objects) {
      if (object.kind === 'ActorTemplate') {
        const template = object as ActorTemplate;
        const issues = idleSuspendAfterIssues(template.metadata.annotations);
        if (issues.length > 0) {
          throw new ValidationError(issues, {
            kind: 'ActorTemplate',
            namespace: template.metadata.namespace,
            name: template.metadata.name,
          });
        }
        templates.set(ref(template.metadata.namespace, template.metadata.name), template);
      } else if (object.kind === 'WorkerPool') {
        const pool = object as WorkerPool;
        pools.set(ref(pool.metadata.namespace, pool.metadata.name), pool);
      } else if (object.kind === 'SandboxConfig') {
        sandboxConfigs.push(object as SandboxConfig);
      }
    }
    this.templates = templates;
    this.pools = pools;
    this.sandboxConfigs = sandboxConfigs;
  }

  getTemplate(namespace: string, name: string): ActorTemplate | undefined {
    return this.templates.get(ref(namespace, name));
  }

  listTemplates(): readonly ActorTemplate[] {
    return [...this.templates.values()];
  }

  listPools(): readonly WorkerPool[] {
    return [...this.pools.values()];
  }

  getPool(namespace: string, name: string): WorkerPool | undefined {
    return this.pools.get(ref(namespace, name));
  }

  listSandboxConfigs(): readonly SandboxConfig[] {
    return this.sandboxConfigs;
  }
}

function ref(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? 'default'}/${name ?? ''}`;
}
