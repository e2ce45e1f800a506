import { readFileSync } from 'node:fs';
import {
  type ChannelCredentials,
  type ClientOptions,
  credentials as grpcCredentials,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { ConfigError, type Settings } from '@substrate/service';
import { atelet } from '@substrate/proto';
import { ControlError, toControlError } from '../errors/control-error';
import type { AteletPort } from './atelet-port';

/** How ateapi reaches atelets: plaintext (upstream's default) or TLS, optionally with a client certificate. */
export interface AteletClientConfig {
  /** Undefined: plaintext. */
  readonly tls?: {
    /** PEM CA bundle that signs the atelets' server certificates (`ATEAPI_ATELET_TLS_CA_FILE`). */
    readonly ca: Buffer;
    /** PEM client certificate chain and key for mutual TLS (`ATEAPI_ATELET_TLS_CERT_FILE` / `…_KEY_FILE`). */
    readonly clientCert?: { readonly cert: Buffer; readonly key: Buffer };
    /** Name to verify in the atelet's certificate instead of the dialled host (`ATEAPI_ATELET_TLS_SERVER_NAME`). */
    readonly serverName?: string;
  };
  /** Most connections kept open at once (`ATEAPI_ATELET_MAX_CONNECTIONS`, default 1024, as upstream). */
  readonly maxConnections: number;
}

/** Default size of the connection cache (upstream's LRU of atelet connections). */
export const DEFAULT_MAX_ATELET_CONNECTIONS = 1024;

/**
 * Reads the atelet client settings: `ATEAPI_ATELET_TLS_CA_FILE` turns TLS on; `ATEAPI_ATELET_TLS_CERT_FILE`
 * and `ATEAPI_ATELET_TLS_KEY_FILE` (both or neither) add a client certificate;
 * `ATEAPI_ATELET_TLS_SERVER_NAME` overrides the verified name; `ATEAPI_ATELET_MAX_CONNECTIONS` bounds the
 * connection cache.
 *
 * @throws ConfigError naming the setting that is missing, unreadable or out of range.
 */
export function loadAteletClientConfig(settings: Settings): AteletClientConfig {
  const maxConnections = settings.int('ATEAPI_ATELET_MAX_CONNECTIONS', DEFAULT_MAX_ATELET_CONNECTIONS, {
    min: 1,
    max: 65_536,
  });
  const caFile = settings.string('ATEAPI_ATELET_TLS_CA_FILE', '');
  const certFile = settings.string('ATEAPI_ATELET_TLS_CERT_FILE', '');
  const keyFile = settings.string('ATEAPI_ATELET_TLS_KEY_FILE', '');
  const serverName = settings.string('ATEAPI_ATELET_TLS_SERVER_NAME', '');
  if (caFile === '') {
    for (const [name, value] of [
      ['ATEAPI_ATELET_TLS_CERT_FILE', certFile],
      ['ATEAPI_ATELET_TLS_KEY_FILE', keyFile],
      ['ATEAPI_ATELET_TLS_SERVER_NAME', serverName],
    ] as const) {
      if (value !== '') throw new ConfigError(name, 'needs ATEAPI_ATELET_TLS_CA_FILE (TLS to atelets)');
    }
    return { maxConnections };
  }
  if ((certFile === '') !== (keyFile === '')) {
    const missing = certFile === '' ? 'ATEAPI_ATELET_TLS_CERT_FILE' : 'ATEAPI_ATELET_TLS_KEY_FILE';
    throw new ConfigError(missing, 'required when the other half of the client certificate is set');
  }
  const read = (setting: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(setting, `cannot read ${path}: ${(error as Error).message}`);
    }
  };
  return {
    maxConnections,
    tls: {
      ca: read('ATEAPI_ATELET_TLS_CA_FILE', caFile),
      ...(certFile === ''
        ? {}
        : {
            clientCert: {
              cert: read('ATEAPI_ATELET_TLS_CERT_FILE', certFile),
              key: read('ATEAPI_ATELET_TLS_KEY_FILE', keyFile),
            },
          }),
      ...(serverName === '' ? {} : { serverName }),
    },
  };
}

/**
 * A bounded least-recently-used map that calls `onEvict` for every entry it drops (on overflow and on
 * {@link LruCache.clear}).
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    readonly capacity: number,
    private readonly onEvict: (value: V, key: K) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value for `key`, created by `create` if absent; either way it becomes the most recently used. */
  getOrCreate(key: K, create: () => V): V {
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, existing);
      return existing;
    }
    const value = create();
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      const evicted = this.entries.get(oldest.value);
      this.entries.delete(oldest.value);
      if (evicted !== undefined) this.onEvict(evicted, oldest.value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Drops every entry, calling `onEvict` for each. */
  clear(): void {
    const all = [...this.entries];
    this.entries.clear();
    for (const [key, value] of all) this.onEvict(value, key);
  }
}

/** The gRPC credentials for a client config: insecure, or TLS with the CA and optional client certificate. */
export function ateletChannelCredentials(config: AteletClientConfig): ChannelCredentials {
  if (config.tls === undefined) return grpcCredentials.createInsecure();
  const { ca, clientCert } = config.tls;
  return grpcCredentials.createSsl(ca, clientCert?.key ?? null, clientCert?.cert ?? null);
}

/**
 * Channel options for atelet connections. grpc-js's reconnect backoff would otherwise grow to two
 * minutes while an atelet is down, so a restarted atelet would stay unreachable long after it is back.
 */
function channelOptions(config: AteletClientConfig): Partial<ClientOptions> {
  return {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 2_000,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    // No channelz call tracing (nothing here serves it): it costs timestamps and counters per call.
    'grpc.enable_channelz': 0,
    ...(config.tls?.serverName === undefined
      ? {}
      : { 'grpc.ssl_target_name_override': config.tls.serverName }),
  };
}

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/**
 * The atelet port over real gRPC: one `atelet.AteomHerder` client per atelet endpoint (`host:port`), kept
 * in an LRU of {@link AteletClientConfig.maxConnections} and closed when evicted or on {@link close}.
 * Every call carries the caller's deadline. A failure becomes a {@link ControlError} with atelet's gRPC
 * code and message (an atelet that cannot be reached is UNAVAILABLE, an expired deadline
 * DEADLINE_EXCEEDED), so it reaches ateapi's caller unchanged, as upstream does.
 *
 * @example
 * const port = new GrpcAteletClient(loadAteletClientConfig(new Settings()));
 * await port.run('10.0.0.7:8085', request, new Date(Date.now() + 30_000));
 */
export class GrpcAteletClient implements AteletPort {
  private readonly clients: LruCache<string, atelet.AteomHerderClient>;
  private readonly credentials: ChannelCredentials;
  private readonly options: Partial<ClientOptions>;
  private closed = false;

  constructor(config: AteletClientConfig = { maxConnections: DEFAULT_MAX_ATELET_CONNECTIONS }) {
    this.credentials = ateletChannelCredentials(config);
    this.options = channelOptions(config);
    this.clients = new LruCache(config.maxConnections, (client) => client.close());
  }

  /** Connections currently cached. */
  get connections(): number {
    return this.clients.size;
  }

  async run(endpoint: string, request: atelet.RunRequest, deadline: Date): Promise<void> {
    await this.call(endpoint, deadline, (client) => client.run.bind(client), request);
  }

  checkpoint(
    endpoint: string,
    request: atelet.CheckpointRequest,
    deadline: Date,
  ): Promise<atelet.CheckpointResponse> {
    return this.call(endpoint, deadline, (client) => client.checkpoint.bind(client), request);
  }

  async restore(endpoint: string, request: atelet.RestoreRequest, deadline: Date): Promise<void> {
    await this.call(endpoint, deadline, (client) => client.restore.bind(client), request);
  }

  /** Closes every cached connection; later calls fail with UNAVAILABLE. */
  close(): Promise<void> {
    this.closed = true;
    this.clients.clear();
    return Promise.resolve();
  }

  private call<Req, Res>(
    endpoint: string,
    deadline: Date,
    method: (client: atelet.AteomHerderClient) => Unary<Req, Res>,
    request: Req,
  ): Promise<Res> {
    if (this.closed) {
      return Promise.reject(new ControlError('UNAVAILABLE', 'atelet client is closed'));
    }
    let client: atelet.AteomHerderClient;
    try {
      client = this.clients.getOrCreate(
        endpoint,
        () => new atelet.AteomHerderClient(endpoint, this.credentials, this.options),
      );
    } catch (error) {
      // grpc-js refuses a target it cannot parse: the atelet cannot be reached at that address.
      return Promise.reject(
        new ControlError('UNAVAILABLE', `atelet ${endpoint} unreachable: ${(error as Error).message}`, {
          cause: error,
        }),
      );
    }
    return new Promise<Res>((resolve, reject) => {
      method(client)(request, new Metadata(), { deadline }, (error, response) =>
        error ? reject(toControlError(error)) : resolve(response),
      );
    });
  }
}
