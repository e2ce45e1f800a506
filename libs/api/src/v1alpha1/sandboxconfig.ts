import { type Assert, type Equals } from '../schema/assert';
import { bool, type InputOf, map, obj, type OutputOf, str } from '../schema/schema';
import { type API_VERSION, type SandboxClass, sandboxClassSchema } from './common';
import { type ObjectMeta } from './meta';

/** One content-addressed file a worker downloads for its sandbox runtime. */
export interface AssetFile {
  url: string;
  /** Lower-case hex SHA-256; names the cached file and verifies the download. */
  sha256: string;
}

/** Desired state of a SandboxConfig. */
export interface SandboxConfigSpec {
  /** Defaults to `gvisor`. */
  sandboxClass: SandboxClass;
  /** The default config of its class (at most one per class, checked when ateapi boots). */
  default?: boolean;
  /** Architecture (GOARCH) → asset name → file. */
  assets?: Record<string, Record<string, AssetFile>>;
}

/** Cluster-scoped runtime binaries (runsc, or the micro-VM assets) for one sandbox class. */
export interface SandboxConfig {
  apiVersion: typeof API_VERSION;
  kind: 'SandboxConfig';
  metadata: ObjectMeta;
  spec: SandboxConfigSpec;
}

export const sandboxConfigSpecSchema = obj(
  {
    sandboxClass: sandboxClassSchema('Sandbox runtime family this config applies to.'),
    default: bool({ description: 'Whether this is the default config of its sandbox class.' }),
    assets: map(
      map(
        obj(
          {
            url: str({ minLength: 1, description: 'Where to download the asset from (e.g. a gs:// URL).' }),
            sha256: str({ pattern: '^[a-f0-9]{64}$', description: 'Lower-case hex SHA-256 of the asset.' }),
          },
          { required: ['url', 'sha256'] },
        ),
      ),
      {
        description:
          'Files workers fetch for this runtime, keyed by architecture (GOARCH) and then by asset name. Per-class requirements are enforced by the ValidatingAdmissionPolicy sandboxconfig-assets.',
      },
    ),
  },
  { required: ['sandboxClass'], description: 'Desired state of the SandboxConfig.' },
);

/** What a SandboxConfig manifest may contain for `spec` (defaulted fields optional). */
export type SandboxConfigSpecInput = InputOf<typeof sandboxConfigSpecSchema>;

type _SandboxConfigCheck = Assert<Equals<SandboxConfigSpec, OutputOf<typeof sandboxConfigSpecSchema>>>;

/** Assets every architecture of a microvm SandboxConfig must define. */
export const MICROVM_ASSETS = [
  'cloud-hypervisor',
  'virtiofsd',
  'kata-kernel',
  'kata-image',
  'kata-config',
] as const;

/**
 * A ValidatingAdmissionPolicy validation (CEL over `object`) with its TypeScript twin. Failures are
 * reported at `path`; the API server reports them without a path.
 */
export interface AdmissionRule<T> {
  readonly expression: string;
  readonly message: string;
  readonly path: string;
  check(object: T): boolean;
}

const everyArch = (c: SandboxConfig, names: readonly string[]) => {
  const archs = Object.values(c.spec.assets ?? {});
  return archs.length > 0 && archs.every((assets) => names.every((n) => Object.hasOwn(assets, n)));
};

/** The rules of the `sandboxconfig-assets` ValidatingAdmissionPolicy. */
export const sandboxConfigAssetRules: readonly AdmissionRule<SandboxConfig>[] = [
  {
    expression:
      "object.spec.sandboxClass != 'gvisor' || (has(object.spec.assets) && size(object.spec.assets) > 0 && object.spec.assets.all(arch, 'runsc' in object.spec.assets[arch]))",
    message: "a gvisor SandboxConfig must define a 'runsc' asset for every architecture under spec.assets",
    path: 'spec.assets',
    check: (c) => c.spec.sandboxClass !== 'gvisor' || everyArch(c, ['runsc']),
  },
  {
    expression: `object.spec.sandboxClass != 'microvm' || (has(object.spec.assets) && size(object.spec.assets) > 0 && object.spec.assets.all(arch, [${MICROVM_ASSETS.map((a) => `'${a}'`).join(', ')}].all(name, name in object.spec.assets[arch])))`,
    message:
      'a microvm SandboxConfig must define cloud-hypervisor, virtiofsd, kata-kernel, kata-image, and kata-config assets for every architecture under spec.assets',
    path: 'spec.assets',
    check: (c) => c.spec.sandboxClass !== 'microvm' || everyArch(c, MICROVM_ASSETS),
  },
];
