// Redis key layout. Every key that one atomic script touches shares a hash tag (`{...}`), so the same
// scripts run on a standalone Redis and on a Redis Cluster:
//   a:{<atespace>/<actor>}          string `<version>:<ateapi.Actor protobuf>`    the actor record
//                                   (a {v, d} hash when written by earlier versions; see scripts.ts)
//   l:{<atespace>/<actor>}          string token, PX ttl                          the actor's workflow lock
//   w:{<namespace>/<pool>/<pod>}    hash {v, d: ateapi.Worker protobuf}           a worker record
//   s:{<atespace>}                  hash {v, d: ateapi.Atespace protobuf, x: "1" while deleting}
//   wi                              set of worker keys                             the worker index
//   wi:built                        string "1"                                     the index holds every
//                                                                                  worker written before it
// The lock lives in the actor's slot, so a workflow's writes are fenced by its lock token in one
// script, and the lock key includes the atespace (upstream's does not). Worker and actor keys are in
// different slots: the workflows order their writes so that a crash between two of them leaves a state
// the recovery loop can repair (see workflows/). The worker index lets ateapi list the workers without
// a SCAN of the whole key space (which, with a billion actors, is a billion keys); it lives in a slot of
// its own, so it is kept beside the records rather than with them (see ControlStore's worker methods).

export const ACTOR_PREFIX = 'a:';
export const LOCK_PREFIX = 'l:';
export const WORKER_PREFIX = 'w:';
export const ATESPACE_PREFIX = 's:';

export const actorKey = (atespace: string, actorId: string): string => `a:{${atespace}/${actorId}}`;
export const lockKey = (atespace: string, actorId: string): string => `l:{${atespace}/${actorId}}`;
export const workerKey = (namespace: string, pool: string, pod: string): string =>
  `w:{${namespace}/${pool}/${pod}}`;
export const atespaceKey = (name: string): string => `s:{${name}}`;
export const WORKER_INDEX_KEY = 'wi';
export const WORKER_INDEX_BUILT_KEY = 'wi:built';

/** SCAN pattern of the actors of one atespace, or of all actors. */
export const actorPattern = (atespace?: string): string => (atespace ? `a:{${atespace}/*` : 'a:*');

/** The parts inside a key's hash tag (`a:{x/y}` → ['x', 'y']); undefined when the key is not ours. */
export function keyParts(key: string, prefix: string): string[] | undefined {
  if (!key.startsWith(`${prefix}{`) || !key.endsWith('}')) return undefined;
  return key.slice(prefix.length + 1, -1).split('/');
}

/** The actor-changes channel (see @substrate/proto). */
export { ACTOR_CHANGES_CHANNEL } from '@substrate/proto';
