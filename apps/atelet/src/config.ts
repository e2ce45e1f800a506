import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { type ChannelCredentials, credentials as grpcCredentials, ServerCredentials } from '@grpc/grpc-js';
import { ConfigError, Settings } from '@substrate/service';
import { type ObjectStoreConfig } from '@substrate/storage';
import { parse as parseYaml } from 'yaml';

/** One ateom worker this atelet drives. */
export interface WorkerConfig {
  /** Worker (pod) name, unique within its pool. */
  readonly name: string;
  /** Namespace of the worker's WorkerPool. */
  readonly namespace: string;
  /** The WorkerPool it belongs to. */
  readonly pool: string;
  /** The UID requests name as `target_ateom_uid` (a DNS-1123 label). */
  readonly uid: string;
  /** The ateom's unix socket. */
  readonly socket: string;
  /** Where the router reaches the actor this worker runs. */
  readonly endpoint: { readonly ip: string; readonly port: number };
}

/** atelet's settings, read once at boot; a bad value stops the process with the setting's name. */
export interface AteletConfig {
  /** HTTP listen address for health (`ATELET_HTTP_LISTEN`, default 127.0.0.1:8483). */
  readonly http: { host: string; port: number };
  /** `atelet.AteomHerder` gRPC listen address (`ATELET_GRPC_LISTEN`, default 127.0.0.1:8085). */
  readonly grpc: { host: string; port: number };
  /** The node directory shared with the ateoms (`ATELET_ROOT`, default `/var/lib/substrate`, as ateom's `ATEOM_ROOT`). */
  readonly root: string;
  /** Per-actor directories: `<root>/actors` (ateom reads the same). */
  readonly actorsDir: string;
  /**
   * Where the ateoms write actor logs (`ATELET_LOG_DIR`, default `<root>/logs`, the default of ateom's
   * `ATEOM_LOG_DIR` under the same root): `<logDir>/<atespace or _>/<actor>/actor.log[.n]`.
   */
  readonly logDir: string;
  /** atelet's caches and worker records (`ATELET_CACHE_DIR`, default `<root>/atelet`): `static-files/`, `rootfs/`, `workers/`. */
  readonly cacheDir: string;
  /** Upper bound of the unpacked-rootfs cache (`ATELET_ROOTFS_CACHE_MAX_BYTES`, default 20 GiB). */
  readonly rootfsCacheMaxBytes: number;
  /** GOARCH spelling of this node's architecture (`ATELET_ARCH`, default from the process). */
  readonly arch: string;
  /** Deadline of each call to an ateom (`ATELET_ATEOM_TIMEOUT_MS`, default 120 s). */
  readonly ateomTimeoutMs: number;
  /** Deadline of a snapshot upload or download (`ATELET_TRANSFER_TIMEOUT_MS`, default 10 min). */
  readonly transferTimeoutMs: number;
  /** `ATELET_WORKERS` (JSON or YAML list) or `ATELET_WORKERS_FILE`. */
  readonly workers: readonly WorkerConfig[];
  /** Object-store settings for snapshots and `s3://` / `gs://` assets. */
  readonly storage: ObjectStoreConfig;
  /**
   * Registry credentials by host (`ATELET_REGISTRY_AUTH_FILE`: a Docker `config.json`, `auths.<host>.auth` =
   * base64 of `user:password`, or `username` and `password`), sent to the token realm as basic auth.
   */
  readonly registryAuth: Readonly<Record<string, { readonly username: string; readonly password: string }>>;
  /**
   * TLS of the AteomHerder port (`ATELET_TLS_CERT_FILE` + `ATELET_TLS_KEY_FILE`, PEM); with
   * `ATELET_TLS_CLIENT_CA_FILE` every client (ateapi) must present a certificate signed by that CA. Unset:
   * plaintext, as upstream. The same certificate is atelet's client certificate towards ateapi.
   */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly clientCa?: Buffer };
  /** Worker registration with ateapi; absent when `ATELET_ATEAPI_ADDRESS` is unset. */
  readonly registration?: {
    /** PEM CA that signs ateapi's certificate (`ATELET_ATEAPI_TLS_CA_FILE`): TLS to ateapi; unset: plaintext. */
    readonly ateapiCa?: Buffer;
    /** ateapi's gRPC address (`ATELET_ATEAPI_ADDRESS`, host:port). */
    readonly ateapiAddress: string;
    /** File holding a bearer token sent to ateapi (`ATELET_ATEAPI_TOKEN_FILE`), re-read on every report. */
    readonly tokenFile?: string;
    /** Node name reported (`ATELET_NODE_NAME`, default the host name). */
    readonly nodeName: string;
    /** Where ateapi reaches this atelet (`ATELET_ADVERTISE_ADDRESS`, default the gRPC listen address). */
    readonly advertiseAddress: string;
    /** Lease asked for (`ATELET_LEASE_SECONDS`, default 30; ateapi may grant another). */
    readonly leaseSeconds: number;
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Go's GOARCH spelling of a Node.js `process.arch`. */
export function goArch(arch: string = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}

function workerList(setting: string, text: string): WorkerConfig[] {
  let parsed: unknown;
  try {
    parsed = parseYaml(text) as unknown;
  } catch (error) {
    throw new ConfigError(setting, `not JSON or YAML: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new ConfigError(setting, 'expected a list of workers');
  const seen = new Set<string>();
  return parsed.map((item: unknown, i) => {
    const at = `${setting}[${i}]`;
    if (typeof item !== 'object' || item === null) throw new ConfigError(at, 'expected an object');
    const record = item as Record<string, unknown>;
    const text = (key: string, fallback?: string): string => {
      const value = record[key] ?? fallback;
      if (typeof value !== 'string' || value === '') throw new ConfigError(`${at}.${key}`, 'required string');
      return value;
    };
    const name = text('name');
    const uid = text('uid', name);
    if (!DNS_LABEL.test(uid))
      throw new ConfigError(`${at}.uid`, `${JSON.stringify(uid)} is not a DNS-1123 label`);
    if (seen.has(uid)) throw new ConfigError(`${at}.uid`, `duplicate worker uid ${uid}`);
    seen.add(uid);
    const socket = text('socket');
    if (!isAbsolute(socket)) throw new ConfigError(`${at}.socket`, 'must be an absolute path');
    const endpoint = text('endpoint');
    const match = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(endpoint);
    const port = Number(match?.[2]);
    if (match?.[1] === undefined || port < 1 || port > 65_535) {
      throw new ConfigError(`${at}.endpoint`, `expected ipv4:port, got ${JSON.stringify(endpoint)}`);
    }
    return {
      name,
      uid,
      namespace: text('namespace', 'default'),
      pool: text('pool'),
      socket,
      endpoint: { ip: match[1], port },
    };
  });
}

function readWorkers(settings: Settings): WorkerConfig[] {
  const inline = settings.string('ATELET_WORKERS', '');
  const file = settings.string('ATELET_WORKERS_FILE', '');
  if (inline !== '' && file !== '') {
    throw new ConfigError(
      'ATELET_WORKERS_FILE',
      'set either ATELET_WORKERS or ATELET_WORKERS_FILE, not both',
    );
  }
  if (file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError('ATELET_WORKERS_FILE', `cannot read ${file}: ${(error as Error).message}`);
    }
    return workerList('ATELET_WORKERS_FILE', text);
  }
  return inline === '' ? [] : workerList('ATELET_WORKERS', inline);
}

function registryAuth(settings: Settings): AteletConfig['registryAuth'] {
  const file = settings.string('ATELET_REGISTRY_AUTH_FILE', '');
  if (file === '') return {};
  let document: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    document = JSON.parse(readFileSync(file, 'utf8')) as typeof document;
  } catch (error) {
    throw new ConfigError(
      'ATELET_REGISTRY_AUTH_FILE',
      `cannot read ${file} as JSON: ${(error as Error).message}`,
    );
  }
  const out: Record<string, { username: string; password: string }> = {};
  for (const [host, entry] of Object.entries(document.auths ?? {})) {
    const decoded = entry.auth !== undefined ? Buffer.from(entry.auth, 'base64').toString('utf8') : undefined;
    const colon = decoded?.indexOf(':') ?? -1;
    const username = decoded !== undefined && colon > 0 ? decoded.slice(0, colon) : entry.username;
    const password = decoded !== undefined && colon > 0 ? decoded.slice(colon + 1) : entry.password;
    if (username === undefined || password === undefined) {
      throw new ConfigError(
        'ATELET_REGISTRY_AUTH_FILE',
        `auths.${host}: needs auth (base64 user:password) or username and password`,
      );
    }
    out[host.replace(/^https?:\/\//, '').replace(/\/.*$/, '')] = { username, password };
  }
  return out;
}

function storageConfig(settings: Settings): ObjectStoreConfig {
  const s3Endpoint = settings.string('ATELET_S3_ENDPOINT', '');
  const accessKeyId = settings.string('ATELET_S3_ACCESS_KEY_ID', '');
  const secretAccessKey = settings.string('ATELET_S3_SECRET_ACCESS_KEY', '');
  const region = settings.string('ATELET_S3_REGION', '');
  const gcsEndpoint = settings.string('ATELET_GCS_ENDPOINT', '');
  if ((accessKeyId === '') !== (secretAccessKey === '')) {
    throw new ConfigError(
      'ATELET_S3_SECRET_ACCESS_KEY',
      'set both ATELET_S3_ACCESS_KEY_ID and ATELET_S3_SECRET_ACCESS_KEY, or neither',
    );
  }
  return {
    s3: {
      ...(s3Endpoint !== '' && { endpoint: s3Endpoint }),
      ...(region !== '' && { region }),
      ...(accessKeyId !== '' && { credentials: { accessKeyId, secretAccessKey } }),
    },
    gcs: { ...(gcsEndpoint !== '' && { apiEndpoint: gcsEndpoint }) },
  };
}

function readPem(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(setting, `cannot read ${path}: ${(error as Error).message}`);
  }
}

function tlsConfig(settings: Settings): AteletConfig['tls'] {
  const cert = settings.string('ATELET_TLS_CERT_FILE', '');
  const key = settings.string('ATELET_TLS_KEY_FILE', '');
  const clientCa = settings.string('ATELET_TLS_CLIENT_CA_FILE', '');
  if (cert === '' && key === '') {
    if (clientCa !== '')
      throw new ConfigError(
        'ATELET_TLS_CLIENT_CA_FILE',
        'needs ATELET_TLS_CERT_FILE and ATELET_TLS_KEY_FILE',
      );
    return undefined;
  }
  if (cert === '' || key === '') {
    throw new ConfigError(
      cert === '' ? 'ATELET_TLS_CERT_FILE' : 'ATELET_TLS_KEY_FILE',
      'required when the other half of the certificate is set',
    );
  }
  return {
    cert: readPem('ATELET_TLS_CERT_FILE', cert),
    key: readPem('ATELET_TLS_KEY_FILE', key),
    ...(clientCa !== '' && { clientCa: readPem('ATELET_TLS_CLIENT_CA_FILE', clientCa) }),
  };
}

export function loadAteletConfig(settings = new Settings()): AteletConfig {
  const root = settings.string('ATELET_ROOT', '/var/lib/substrate');
  const grpc = settings.listenAddress('ATELET_GRPC_LISTEN', '127.0.0.1:8085');
  const ateapiAddress = settings.string('ATELET_ATEAPI_ADDRESS', '');
  const tokenFile = settings.string('ATELET_ATEAPI_TOKEN_FILE', '');
  const ateapiCa = settings.string('ATELET_ATEAPI_TLS_CA_FILE', '');
  const tls = tlsConfig(settings);
  return {
    http: settings.listenAddress('ATELET_HTTP_LISTEN', '127.0.0.1:8483'),
    grpc,
    root,
    actorsDir: join(root, 'actors'),
    logDir: settings.string('ATELET_LOG_DIR', join(root, 'logs')),
    cacheDir: settings.string('ATELET_CACHE_DIR', join(root, 'atelet')),
    rootfsCacheMaxBytes: settings.int('ATELET_ROOTFS_CACHE_MAX_BYTES', 20 * 1024 ** 3, { min: 1 }),
    arch: settings.string('ATELET_ARCH', goArch()),
    ateomTimeoutMs: settings.int('ATELET_ATEOM_TIMEOUT_MS', 120_000, { min: 1 }),
    transferTimeoutMs: settings.int('ATELET_TRANSFER_TIMEOUT_MS', 600_000, { min: 1 }),
    workers: readWorkers(settings),
    storage: storageConfig(settings),
    registryAuth: registryAuth(settings),
    ...(tls !== undefined && { tls }),
    ...(ateapiAddress !== '' && {
      registration: {
        ateapiAddress,
        ...(tokenFile !== '' && { tokenFile }),
        ...(ateapiCa !== '' && { ateapiCa: readPem('ATELET_ATEAPI_TLS_CA_FILE', ateapiCa) }),
        nodeName: settings.string('ATELET_NODE_NAME', hostname()),
        advertiseAddress: settings.string('ATELET_ADVERTISE_ADDRESS', `${grpc.host}:${grpc.port}`),
        leaseSeconds: settings.int('ATELET_LEASE_SECONDS', 30, { min: 3, max: 3_600 }),
      },
    }),
  };
}

/** Credentials of the AteomHerder port: plaintext, TLS, or TLS that requires a client certificate of the CA. */
export function herderServerCredentials(config: Pick<AteletConfig, 'tls'>): ServerCredentials {
  const tls = config.tls;
  if (tls === undefined) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(
    tls.clientCa ?? null,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    tls.clientCa !== undefined,
  );
}

/** Credentials towards ateapi: TLS with its CA (and atelet's certificate as client certificate) or plaintext. */
export function ateapiChannelCredentials(
  config: Pick<AteletConfig, 'tls' | 'registration'>,
): ChannelCredentials {
  const ca = config.registration?.ateapiCa;
  if (ca === undefined) return grpcCredentials.createInsecure();
  return grpcCredentials.createSsl(ca, config.tls?.key ?? null, config.tls?.cert ?? null);
}
