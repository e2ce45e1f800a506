/** The DNS suffix under which every actor has a name: `<actor>.<atespace>.actors.resources.substrate.ate.dev`. */
export const ACTOR_DOMAIN = 'actors.resources.substrate.ate.dev';

/** Header naming the target actor directly, `<atespace>/<actor>` (newer upstream clients send it). */
export const TARGET_ACTOR_HEADER = 'ate-target-actor';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** An actor a request is addressed to. */
export interface ActorAddress {
  readonly atespace: string;
  readonly actorId: string;
}

/** Why a request names no actor: the message for the 404 body. */
export class AddressError extends Error {
  override readonly name = 'AddressError';
  readonly code = 'INVALID_ACTOR_ADDRESS';
}

/** `<atespace>/<actor>` — the key a router uses for an actor. */
export const actorKeyOf = (address: ActorAddress): string => `${address.atespace}/${address.actorId}`;

function checkLabel(what: string, value: string): string | undefined {
  if (value === '') return `${what} is empty`;
  if (value.length > 63) return `${what} ${JSON.stringify(value)} is longer than 63 characters`;
  if (!LABEL.test(value))
    return `${what} ${JSON.stringify(value)} is not a DNS-1123 label (lower case letters, digits and '-')`;
  return undefined;
}

/**
 * The actor a Host header names, with upstream's rules: an optional `:port` and one trailing dot are
 * allowed; the rest must be `<actor>.<atespace>.actors.resources.substrate.ate.dev`, both labels DNS-1123
 * labels (no case folding: upper case is refused). Throws {@link AddressError} (`invalid host "<host>":
 * <reason>`).
 */
export function parseActorHost(host: string): ActorAddress {
  const fail = (reason: string): never => {
    throw new AddressError(`invalid host ${JSON.stringify(host)}: ${reason}`);
  };
  let name = host;
  const bracket = name.startsWith('[');
  if (bracket) fail('an IP address names no actor');
  const colon = name.lastIndexOf(':');
  if (colon >= 0) {
    const port = name.slice(colon + 1);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535) fail(`bad port ${JSON.stringify(port)}`);
    name = name.slice(0, colon);
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  const suffix = `.${ACTOR_DOMAIN}`;
  if (!name.endsWith(suffix)) fail(`not a name under ${ACTOR_DOMAIN}`);
  const rest = name.slice(0, -suffix.length);
  const dot = rest.indexOf('.');
  if (dot < 0) fail('expected <actor>.<atespace> before the actor domain');
  const actorId = rest.slice(0, dot);
  const atespace = rest.slice(dot + 1);
  const problem = checkLabel('actor', actorId) ?? checkLabel('atespace', atespace);
  if (problem) fail(problem);
  return { atespace, actorId };
}

/** The actor an `ate-target-actor: <atespace>/<actor>` header names; throws {@link AddressError}. */
export function parseTargetHeader(value: string): ActorAddress {
  const parts = value.trim().split('/');
  if (parts.length !== 2) {
    throw new AddressError(
      `invalid ${TARGET_ACTOR_HEADER} ${JSON.stringify(value)}: expected <atespace>/<actor>`,
    );
  }
  const [atespace = '', actorId = ''] = parts;
  const problem = checkLabel('atespace', atespace) ?? checkLabel('actor', actorId);
  if (problem) throw new AddressError(`invalid ${TARGET_ACTOR_HEADER} ${JSON.stringify(value)}: ${problem}`);
  return { atespace, actorId };
}

/** The actor a request addresses: the `ate-target-actor` header when present, else the Host. */
export function actorOfRequest(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): ActorAddress {
  const target = headers[TARGET_ACTOR_HEADER];
  if (target !== undefined) return parseTargetHeader(Array.isArray(target) ? (target[0] ?? '') : target);
  const host = headers['host'];
  if (host === undefined || host === '') throw new AddressError('invalid host "": no Host header');
  return parseActorHost(Array.isArray(host) ? (host[0] ?? '') : host);
}

/** The DNS name of an actor (what the actor sees as Host). */
export function actorHostName(address: ActorAddress): string {
  return `${address.actorId}.${address.atespace}.${ACTOR_DOMAIN}`;
}
