import { InvalidRequestError } from '../errors/atelet-error';
import { dnsLabel } from '../herder/herder-request';
import { NO_ATESPACE_DIR, type ActorLogQuery } from './actor-log-reader';

/** A validated `GET /v1/atespaces/{atespace}/actors/{actor}/logs`. */
export interface ActorLogsRequest {
  /** Empty for an actor without atespace (`_` in the path). */
  readonly atespace: string;
  readonly actorId: string;
  readonly query: ActorLogQuery;
}

const QUERY_PARAMETERS = ['tailLines', 'container', 'follow', 'sinceTime'] as const;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Checks the path parameters (DNS-1123 labels, as atelet's gRPC requests; `_` is the empty atespace)
 * and the query (`tailLines`, `container`, `follow`, `sinceTime`); an unknown or repeated parameter is
 * refused rather than ignored. Throws {@link InvalidRequestError} naming the parameter.
 */
export function parseActorLogsRequest(
  atespace: string,
  actor: string,
  query: Readonly<Record<string, unknown>>,
): ActorLogsRequest {
  const space = atespace === NO_ATESPACE_DIR ? '' : dnsLabel('atespace', atespace);
  const actorId = dnsLabel('actor', actor);
  const known: readonly string[] = QUERY_PARAMETERS;
  const unknown = Object.keys(query).find((name) => !known.includes(name));
  if (unknown !== undefined) {
    throw new InvalidRequestError(
      unknown,
      `unknown query parameter (expected ${QUERY_PARAMETERS.join(', ')})`,
    );
  }
  const text = (name: (typeof QUERY_PARAMETERS)[number]): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new InvalidRequestError(name, 'must be given once');
    return value;
  };
  const tail = text('tailLines');
  const container = text('container');
  const follow = text('follow');
  // A `+` left unencoded in a query string arrives as a space.
  const since = text('sinceTime')?.replace(/ (\d{2}:\d{2})$/, '+$1');
  let tailLines: number | undefined;
  if (tail !== undefined) {
    tailLines = /^\d{1,15}$/.test(tail) ? Number(tail) : NaN;
    if (!Number.isSafeInteger(tailLines)) {
      throw new InvalidRequestError('tailLines', `${JSON.stringify(tail)} is not a non-negative integer`);
    }
  }
  if (follow !== undefined && follow !== 'true' && follow !== 'false') {
    throw new InvalidRequestError('follow', `${JSON.stringify(follow)} is not true or false`);
  }
  let sinceMs: number | undefined;
  if (since !== undefined) {
    sinceMs = RFC3339.test(since) ? Date.parse(since.toUpperCase()) : NaN;
    if (Number.isNaN(sinceMs)) {
      throw new InvalidRequestError(
        'sinceTime',
        `${JSON.stringify(since)} is not an RFC 3339 time (e.g. 2026-11-30T09:20:48Z)`,
      );
    }
  }
  return {
    atespace: space,
    actorId,
    query: {
      ...(container !== undefined && { container: dnsLabel('container', container) }),
      ...(tailLines !== undefined && { tailLines }),
      ...(sinceMs !== undefined && { sinceMs }),
      follow: follow === 'true',
    },
  };
}
