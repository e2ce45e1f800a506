// What the benchmarks that run ateapi against a fake atelet give it as its catalog: one ActorTemplate, a
// WorkerPool of the fake atelet's workers and a SandboxConfig (the digests and sha256 are placeholders the
// fake atelet never checks).
import { type ActorTemplate, type SandboxConfig, toYaml, type WorkerPool } from '@substrate/api';

/** Knobs, overridable from the environment to explore (the recorded runs use the defaults). */
export function setting(name: string, fallback: number, { min = 0 }: { min?: number } = {}): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return value;
}

/** The catalog YAML: `template` plus a pool `default/pool` of `workers` workers and the default sandbox config. */
export function fakeCatalogYaml(template: ActorTemplate, workers: number): string {
  const pool = {
    apiVersion: 'ate.dev/v1alpha1',
    kind: 'WorkerPool',
    metadata: { name: 'pool', namespace: 'default', labels: {} },
    spec: { replicas: workers, ateomImage: 'ateom:dev', sandboxClass: 'gvisor' },
  } as WorkerPool;
  const sandbox = {
    apiVersion: 'ate.dev/v1alpha1',
    kind: 'SandboxConfig',
    metadata: { name: 'gvisor-default' },
    spec: {
      sandboxClass: 'gvisor',
      default: true,
      assets: { amd64: { runsc: { url: 'file:///usr/bin/runsc', sha256: 'a'.repeat(64) } } },
    },
  } as SandboxConfig;
  return toYaml([template, pool, sandbox]);
}
