import { createHash } from 'node:crypto';
import { StoreError } from './store-error';

/**
 * ListActors page tokens: base64url of JSON `{"m": <first 16 hex of sha256(master address)>, "c":
 * <SCAN cursor>}`. Opaque to clients; a token that does not decode, or names a master that is gone
 * (the cluster topology changed), is refused.
 */
export function encodePageToken(masterAddress: string, cursor: string): string {
  return Buffer.from(JSON.stringify({ m: masterId(masterAddress), c: cursor })).toString('base64url');
}

/** The master index and cursor a token points at; the first master and cursor 0 for an empty token. */
export function decodePageToken(
  token: string,
  masterAddresses: readonly string[],
): { master: number; cursor: string } {
  if (token === '') return { master: 0, cursor: '0' };
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (error) {
    throw new StoreError('CORRUPT', 'invalid page token: not a token this server issued', { cause: error });
  }
  const { m, c } = (parsed ?? {}) as { m?: unknown; c?: unknown };
  if (typeof m !== 'string' || typeof c !== 'string' || !/^\d+$/.test(c)) {
    throw new StoreError('CORRUPT', 'invalid page token: not a token this server issued');
  }
  const master = masterAddresses.findIndex((address) => masterId(address) === m);
  if (master < 0) {
    throw new StoreError(
      'CORRUPT',
      'invalid page token: the store topology changed since it was issued; start the listing again',
    );
  }
  return { master, cursor: c };
}

function masterId(address: string): string {
  return createHash('sha256').update(address).digest('hex').slice(0, 16);
}
