import { isIPv4 } from 'node:net';
import { InvalidAddressError } from './errors';

/**
 * The sandbox network, identical on every worker so that a restored sandbox finds the interface and the
 * address it was checkpointed with. Same constants as upstream: the sandbox's `eth0` is 169.254.17.2/30
 * with gateway 169.254.17.1 (the worker side of the veth pair).
 */
export interface NetworkLayout {
  /** The worker side of the veth pair and the sandbox's default gateway. */
  readonly workerAddress: string;
  /** The address the sandbox always sees on its `eth0`. */
  readonly sandboxAddress: string;
  readonly prefixLength: number;
}

export const DEFAULT_NETWORK_LAYOUT: NetworkLayout = {
  workerAddress: '169.254.17.1',
  sandboxAddress: '169.254.17.2',
  prefixLength: 30,
};

function octets(address: string): number[] {
  if (!isIPv4(address)) throw new InvalidAddressError(address, 'not an IPv4 address');
  return address.split('.').map(Number);
}

/** True for 127.0.0.0/8 and 169.254.0.0/16, the only ranges the sandbox network may use. */
export function isLoopbackOrLinkLocal(address: string): boolean {
  const [a, b] = octets(address);
  return a === 127 || (a === 169 && b === 254);
}

/**
 * Checks a layout: both addresses link-local (169.254.0.0/16), distinct, in the same subnet of
 * `prefixLength` bits, and neither the network nor the broadcast address of that subnet.
 */
export function validateLayout(layout: NetworkLayout): NetworkLayout {
  const { workerAddress, sandboxAddress, prefixLength } = layout;
  for (const address of [workerAddress, sandboxAddress]) {
    const [a, b] = octets(address);
    if (a !== 169 || b !== 254) throw new InvalidAddressError(address, 'must be in 169.254.0.0/16');
  }
  if (!Number.isInteger(prefixLength) || prefixLength < 16 || prefixLength > 30) {
    throw new InvalidAddressError(`${sandboxAddress}/${prefixLength}`, 'prefix length must be 16..30');
  }
  const toInt = (address: string) => octets(address).reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefixLength);
  const worker = toInt(workerAddress);
  const sandbox = toInt(sandboxAddress);
  if (worker === sandbox) throw new InvalidAddressError(sandboxAddress, 'equals the worker address');
  if (Math.floor(worker / size) !== Math.floor(sandbox / size)) {
    throw new InvalidAddressError(sandboxAddress, `not in the same /${prefixLength} as ${workerAddress}`);
  }
  for (const [address, value] of [
    [workerAddress, worker],
    [sandboxAddress, sandbox],
  ] as const) {
    const host = value % size;
    if (host === 0 || host === size - 1) {
      throw new InvalidAddressError(address, `is the network or broadcast address of its /${prefixLength}`);
    }
  }
  return layout;
}

/** Endpoints of forwarded workers live in 169.254.128.0/17, one /30 per worker index. */
export const MAX_ENDPOINT_INDEX = 8_191;

/**
 * The /30 of a forwarded worker's endpoint: `hostAddress` on the host's side of the link, `endpoint` in
 * the worker's own namespace (where connections are forwarded to the sandbox). Index 0 gives
 * 169.254.128.1 / 169.254.128.2, index 1 gives 169.254.128.5 / 169.254.128.6, and so on.
 */
export function endpointAddresses(index: number): {
  hostAddress: string;
  endpoint: string;
  prefixLength: 30;
} {
  if (!Number.isInteger(index) || index < 0 || index > MAX_ENDPOINT_INDEX) {
    throw new InvalidAddressError(String(index), `endpoint index must be 0..${MAX_ENDPOINT_INDEX}`);
  }
  const base = (128 << 8) + index * 4; // offset inside 169.254.0.0/16
  const address = (offset: number) => `169.254.${(base + offset) >> 8}.${(base + offset) & 255}`;
  return { hostAddress: address(1), endpoint: address(2), prefixLength: 30 };
}
