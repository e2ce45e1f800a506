import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_NETWORK_LAYOUT, endpointAddresses, validateLayout, type NetworkLayout } from './addresses';
import { runCommand } from './command';
import { AddressInUseError, InvalidNameError, NetworkSetupError } from './errors';

/** Where `ip netns add` puts named namespaces. */
export const NETNS_DIR = '/run/netns';

/** The network of one worker's sandbox: a named namespace joined to the worker's namespace by a veth pair. */
export interface SandboxNetwork {
  readonly worker: string;
  /** Namespace name (`ate-<worker>`). */
  readonly namespace: string;
  /** Path for the bundle's `linux.namespaces` entry of type `network`. */
  readonly namespacePath: string;
  /** The veth end in the worker's namespace (`ateh-<worker>`); carries the worker address. */
  readonly workerLink: string;
  /** The veth end inside the namespace, always renamed `eth0`. */
  readonly sandboxLink: 'eth0';
  readonly layout: NetworkLayout;
  /**
   * Present when the worker has its own namespace (`atw-<worker>`) with a unique endpoint address that
   * forwards (DNAT) to the sandbox address; absent when the veth starts in ateom's own namespace.
   */
  readonly forward?: {
    readonly namespace: string;
    /** The worker's endpoint, reachable from the host; every TCP port forwards to the sandbox. */
    readonly endpoint: string;
    /** The host's end of the link to the worker namespace (`atew-<worker>`). */
    readonly hostLink: string;
    readonly hostAddress: string;
  };
}

export interface NetnsManagerOptions {
  /** Path of the `ip` binary (iproute2). */
  readonly ip: string;
  readonly layout?: NetworkLayout;
  /** Path of `nft` (nftables); needed for forwarded workers. */
  readonly nft?: string;
  /** Path of `sysctl`; needed for forwarded workers. */
  readonly sysctl?: string;
  /** Deadline for each `ip` call. */
  readonly commandTimeoutMs?: number;
}

const WORKER_NAME = /^[a-z0-9][a-z0-9-]{0,9}$/;

/**
 * Validates a worker name: 1–10 characters of `[a-z0-9-]`, starting with a letter or digit. The bound
 * keeps the link names under the kernel's 15-character limit.
 */
export function validateWorkerName(worker: string): string {
  if (!WORKER_NAME.test(worker)) {
    throw new InvalidNameError(
      'worker name',
      worker,
      'expected 1-10 characters of [a-z0-9-], not starting with -',
    );
  }
  return worker;
}

/** The names derived from a (valid) worker name. */
export function networkNames(worker: string): {
  namespace: string;
  workerLink: string;
  peerLink: string;
  workerNamespace: string;
  hostLink: string;
} {
  validateWorkerName(worker);
  return {
    namespace: `ate-${worker}`,
    workerLink: `ateh-${worker}`,
    peerLink: `atep-${worker}`,
    workerNamespace: `atw-${worker}`,
    hostLink: `atew-${worker}`,
  };
}

/**
 * Creates, prepares and removes the network namespace of each worker's sandbox.
 *
 * Layout (addresses from {@link NetworkLayout}, by default upstream's): a veth pair joins the namespace
 * that runs ateom (the worker's namespace: the pod locally is the host) to the sandbox namespace
 * `ate-<worker>`. The worker end `ateh-<worker>` holds 169.254.17.1/30; the sandbox end is `eth0`
 * with 169.254.17.2/30 and a default route via 169.254.17.1. runsc takes the address over (it moves it
 * into its own netstack and removes it from `eth0`), so {@link prepare} sets it again before each run or
 * restore. The sandbox is therefore reached from the worker's namespace at 169.254.17.2 directly.
 */
export class NetnsManager {
  private readonly layout: NetworkLayout;
  private readonly timeoutMs: number;

  constructor(private readonly options: NetnsManagerOptions) {
    this.layout = validateLayout(options.layout ?? DEFAULT_NETWORK_LAYOUT);
    this.timeoutMs = options.commandTimeoutMs ?? 5_000;
  }

  /** Describes a worker's network without touching the system. */
  describe(worker: string): SandboxNetwork {
    const { namespace, workerLink } = networkNames(worker);
    return {
      worker,
      namespace,
      namespacePath: join(NETNS_DIR, namespace),
      workerLink,
      sandboxLink: 'eth0',
      layout: this.layout,
    };
  }

  /**
   * Creates the namespace and the veth pair (after removing stale ones of the same worker), then
   * {@link prepare}s the addresses. On failure nothing is left behind.
   *
   * Without `endpointIndex` the veth starts in ateom's own namespace (the pod, in Kubernetes) and fails
   * with {@link AddressInUseError} when another link there already holds the worker address. With it,
   * the worker gets its own namespace `atw-<worker>` between the host and the sandbox, with the endpoint
   * from {@link endpointAddresses} forwarding every TCP port to the sandbox address, so several workers
   * can share one host.
   */
  async create(worker: string, { endpointIndex }: { endpointIndex?: number } = {}): Promise<SandboxNetwork> {
    const names = networkNames(worker);
    const { namespace, workerLink, peerLink } = names;
    await this.remove(worker);
    const forward =
      endpointIndex === undefined
        ? undefined
        : { namespace: names.workerNamespace, hostLink: names.hostLink, ...endpointAddresses(endpointIndex) };
    if (forward === undefined) {
      const holder = await this.linkHolding(this.layout.workerAddress);
      if (holder !== undefined) throw new AddressInUseError(this.layout.workerAddress, holder);
    }
    const network: SandboxNetwork = {
      ...this.describe(worker),
      ...(forward && {
        forward: {
          namespace: forward.namespace,
          endpoint: forward.endpoint,
          hostLink: forward.hostLink,
          hostAddress: forward.hostAddress,
        },
      }),
    };
    // `ip` arguments that act in the namespace holding the worker end of the sandbox link.
    const inWorker = forward === undefined ? [] : ['-n', forward.namespace];
    const cidr = `${this.layout.workerAddress}/${this.layout.prefixLength}`;
    try {
      if (forward !== undefined) await this.createForward(worker, forward);
      await this.step(worker, 'create namespace', ['netns', 'add', namespace]);
      await this.step(worker, 'create veth pair', [
        ...inWorker,
        'link',
        'add',
        workerLink,
        'type',
        'veth',
        'peer',
        'name',
        peerLink,
        'netns',
        namespace,
      ]);
      await this.step(worker, 'rename sandbox link', [
        '-n',
        namespace,
        'link',
        'set',
        peerLink,
        'name',
        'eth0',
      ]);
      await this.step(worker, 'bring up loopback', ['-n', namespace, 'link', 'set', 'lo', 'up']);
      await this.step(worker, 'bring up sandbox link', ['-n', namespace, 'link', 'set', 'eth0', 'up']);
      await this.step(worker, 'address worker link', [
        ...inWorker,
        'addr',
        'replace',
        cidr,
        'dev',
        workerLink,
      ]);
      await this.step(worker, 'bring up worker link', [...inWorker, 'link', 'set', workerLink, 'up']);
      await this.prepare(network);
      return network;
    } catch (error) {
      await this.remove(worker).catch(() => undefined);
      throw error;
    }
  }

  /** The worker namespace, its link to the host with the endpoint, IP forwarding and the DNAT rule. */
  private async createForward(
    worker: string,
    forward: {
      namespace: string;
      hostLink: string;
      hostAddress: string;
      endpoint: string;
      prefixLength: number;
    },
  ): Promise<void> {
    const { namespace, hostLink, hostAddress, endpoint, prefixLength } = forward;
    const inside = ['-n', namespace];
    await this.step(worker, 'create worker namespace', ['netns', 'add', namespace]);
    await this.step(worker, 'create host link', [
      'link',
      'add',
      hostLink,
      'type',
      'veth',
      'peer',
      'name',
      'up0',
      'netns',
      namespace,
    ]);
    await this.step(worker, 'address host link', [
      'addr',
      'replace',
      `${hostAddress}/${prefixLength}`,
      'dev',
      hostLink,
    ]);
    await this.step(worker, 'bring up host link', ['link', 'set', hostLink, 'up']);
    await this.step(worker, 'bring up worker loopback', [...inside, 'link', 'set', 'lo', 'up']);
    await this.step(worker, 'address endpoint', [
      ...inside,
      'addr',
      'replace',
      `${endpoint}/${prefixLength}`,
      'dev',
      'up0',
    ]);
    await this.step(worker, 'bring up endpoint', [...inside, 'link', 'set', 'up0', 'up']);
    const sysctl = this.options.sysctl ?? 'sysctl';
    const nft = this.options.nft ?? 'nft';
    await this.step(worker, 'enable forwarding', [
      'netns',
      'exec',
      namespace,
      sysctl,
      '-qw',
      'net.ipv4.ip_forward=1',
    ]);
    const nftIn = ['netns', 'exec', namespace, nft];
    await this.step(worker, 'create nat table', [...nftIn, 'add', 'table', 'ip', 'ateom']);
    await this.step(worker, 'create prerouting chain', [
      ...nftIn,
      'add chain ip ateom prerouting { type nat hook prerouting priority dstnat ; }',
    ]);
    await this.step(worker, 'forward endpoint to sandbox', [
      ...nftIn,
      'add',
      'rule',
      'ip',
      'ateom',
      'prerouting',
      'ip',
      'daddr',
      endpoint,
      'dnat',
      'to',
      this.layout.sandboxAddress,
    ]);
  }

  /** Sets the sandbox address and default route again; runsc removes them on every run and restore. */
  async prepare(network: SandboxNetwork): Promise<void> {
    const { namespace } = network;
    const { sandboxAddress, workerAddress, prefixLength } = this.layout;
    await this.step(network.worker, 'address sandbox link', [
      '-n',
      namespace,
      'addr',
      'replace',
      `${sandboxAddress}/${prefixLength}`,
      'dev',
      'eth0',
    ]);
    await this.step(network.worker, 'route via worker link', [
      '-n',
      namespace,
      'route',
      'replace',
      'default',
      'via',
      workerAddress,
      'dev',
      'eth0',
    ]);
  }

  /** Removes the worker link and the namespace (which takes the sandbox link with it). Idempotent. */
  async remove(worker: string): Promise<void> {
    const { namespace, workerLink, workerNamespace, hostLink } = networkNames(worker);
    if (existsSync(`/sys/class/net/${hostLink}`)) {
      await this.step(worker, 'delete host link', ['link', 'del', hostLink]);
    }
    if (existsSync(join(NETNS_DIR, workerNamespace))) {
      await this.step(worker, 'delete worker namespace', ['netns', 'del', workerNamespace]);
    }
    if (existsSync(`/sys/class/net/${workerLink}`)) {
      await this.step(worker, 'delete worker link', ['link', 'del', workerLink]);
    }
    if (existsSync(join(NETNS_DIR, namespace))) {
      await this.step(worker, 'delete namespace', ['netns', 'del', namespace]);
    }
  }

  /** True when any namespace of the worker exists. */
  exists(worker: string): boolean {
    const { namespace, workerNamespace } = networkNames(worker);
    return existsSync(join(NETNS_DIR, namespace)) || existsSync(join(NETNS_DIR, workerNamespace));
  }

  private async linkHolding(address: string): Promise<string | undefined> {
    const { stdout } = await runCommand(
      this.options.ip,
      ['-o', '-4', 'addr', 'show', 'to', `${address}/32`],
      {
        timeoutMs: this.timeoutMs,
      },
    );
    // `-o` prints one line per address: "<index>: <link> inet <cidr> ..."
    return stdout
      .split('\n')
      .map((line) => line.split(/\s+/)[1])
      .find((link) => link !== undefined && link !== '');
  }

  private async step(worker: string, what: string, args: readonly string[]): Promise<void> {
    try {
      await runCommand(this.options.ip, args, { timeoutMs: this.timeoutMs });
    } catch (error) {
      throw new NetworkSetupError(worker, `${what} (ip ${args.join(' ')})`, { cause: error });
    }
  }
}
