import type { ActorTemplate, SandboxConfig, WorkerPool } from '@substrate/api';
import { resolveRunsc } from '@substrate/api';
import { atelet } from '@substrate/proto';
import { failedPrecondition, internal } from '../errors/control-error';

/**
 * The workload atelet runs, from the template: containers, pause image and durable-dir volumes. Env
 * values are literal; a `secretKeyRef` needs the Kubernetes adapter (not in local mode), so it fails
 * with upstream's message unless it is optional, in which case the variable is left out.
 */
export function workloadSpecOf(template: ActorTemplate, { withEnv = true } = {}): atelet.WorkloadSpec {
  return {
    pauseImage: template.spec.pauseImage,
    containers: (template.spec.containers ?? []).map((container) => ({
      name: container.name,
      image: container.image,
      command: [...(container.command ?? [])],
      env: withEnv
        ? (container.env ?? []).flatMap((entry) => {
            if (entry.value !== undefined) return [{ name: entry.name, value: entry.value }];
            if (entry.valueFrom?.secretKeyRef?.optional) return [];
            throw failedPrecondition(
              `container "${container.name}" env "${entry.name}" cannot resolve secretKeyRef because Kubernetes client is unavailable`,
            );
          })
        : [],
      readyz: container.readyz && {
        httpGet: { path: container.readyz.httpGet.path ?? '/readyz', port: container.readyz.httpGet.port },
      },
      volumeMounts: (container.volumeMounts ?? []).map((mount) => ({
        name: mount.name,
        mountPath: mount.mountPath,
      })),
    })),
    volumes: (template.spec.volumes ?? []).map((volume) => ({
      name: volume.name,
      type: atelet.VolumeType.VOLUME_TYPE_DURABLE_DIR,
      source: { $case: 'durableDir', value: {} },
    })),
  };
}

/**
 * The sandbox assets for a cold boot on `pool`: per architecture, the template's own runsc when it
 * pins one, else the pool's SandboxConfig (named, or the unique default of its class).
 */
export function sandboxAssetsOf(
  template: ActorTemplate,
  pool: WorkerPool | undefined,
  configs: readonly SandboxConfig[],
): atelet.SandboxAssets {
  const sandboxClass = pool?.spec.sandboxClass ?? template.spec.sandboxClass;
  const config = sandboxConfigOf(pool, sandboxClass, configs, template);
  const arches = new Set([
    ...Object.keys(template.spec.runsc ?? {}),
    ...Object.keys(config?.spec.assets ?? {}),
  ]);
  const assets: Record<string, atelet.ArchAssets> = {};
  for (const arch of arches) {
    const files: Record<string, atelet.AssetFile> = {};
    for (const [name, file] of Object.entries(config?.spec.assets?.[arch] ?? {})) {
      files[name] = { url: file.url, sha256: file.sha256 };
    }
    const runsc = resolveRunsc(template, arch, config);
    if (runsc) files['runsc'] = { url: runsc.url, sha256: runsc.sha256 };
    assets[arch] = { files };
  }
  return { sandboxClass, assets };
}

function sandboxConfigOf(
  pool: WorkerPool | undefined,
  sandboxClass: string,
  configs: readonly SandboxConfig[],
  template: ActorTemplate,
): SandboxConfig | undefined {
  const named = pool?.spec.sandboxConfigName;
  if (named) {
    const config = configs.find((c) => c.metadata.name === named);
    if (!config)
      throw internal(
        `SandboxConfig "${named}" named by WorkerPool ${pool.metadata.namespace ?? ''}/${pool.metadata.name ?? ''} not found`,
      );
    if (config.spec.sandboxClass !== sandboxClass) {
      throw internal(
        `SandboxConfig "${named}" has class "${config.spec.sandboxClass}", but the pool's class is "${sandboxClass}"`,
      );
    }
    return config;
  }
  const defaults = configs.filter((c) => c.spec.default && c.spec.sandboxClass === sandboxClass);
  if (defaults.length > 1) {
    throw internal(
      `multiple default SandboxConfigs for class "${sandboxClass}" (${defaults.map((c) => c.metadata.name ?? '').join(', ')})`,
    );
  }
  if (defaults.length === 0 && !template.spec.runsc) {
    throw internal(
      `no default SandboxConfig for class "${sandboxClass}"; set one with spec.default=true or name one via WorkerPool.spec.sandboxConfigName`,
    );
  }
  return defaults[0];
}
