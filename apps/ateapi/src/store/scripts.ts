// The Lua scripts of the state store. Each touches keys of one hash slot only. Records are hashes
// {v: version, d: data}; a version of "0" in a request means "the record must not exist".
//
// Results are integers or arrays; negative integers are the failure reasons below.

/** Script results that are failures. */
export const enum ScriptFailure {
  Missing = -1,
  VersionMismatch = -2,
  LockLost = -3,
  Exists = -4,
  LockBusy = -5,
}

/**
 * put(KEYS[1]=record, KEYS[2]=lock or '', ARGV[1]=expected version, ARGV[2]=data, ARGV[3]=lock token
 * or '', ARGV[4]=release lock "1"|"0", ARGV[5]=channel or '', ARGV[6]=message) → new version.
 * Compare-and-set on the version, fenced by the lock token when one is given (a workflow whose lock
 * expired cannot write), optionally releasing the lock and publishing `message` on `channel` (only
 * when the write happened) in the same step.
 */
export const PUT = `
local expected = ARGV[1]
if ARGV[3] ~= '' then
  if redis.call('GET', KEYS[2]) ~= ARGV[3] then return -3 end
end
local current = redis.call('HGET', KEYS[1], 'v')
if expected == '0' then
  if current then return -4 end
else
  if not current then return -1 end
  if current ~= expected then return -2 end
end
local nextVersion = tonumber(expected) + 1
redis.call('HSET', KEYS[1], 'v', nextVersion, 'd', ARGV[2])
if ARGV[4] == '1' then redis.call('DEL', KEYS[2]) end
if ARGV[5] and ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
return nextVersion
`;

/**
 * Actor records are strings `<version>:<ateapi.Actor protobuf>`, not {v, d} hashes: a hash whose data
 * is longer than Redis's `hash-max-listpack-value` (64 bytes by default) is stored as a hash table,
 * which costs about 180 bytes more per actor than the string. Actors written by earlier versions as
 * hashes are still read, and become strings on their next write. `ACTOR_VERSION` is the Lua snippet
 * that sets `current` to the stored version of KEYS[1] (nil when missing, '?' when unreadable).
 */
const ACTOR_VERSION = `
local current
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'string' then
  current = string.match(redis.call('GETRANGE', KEYS[1], 0, 24), '^(%d+):') or '?'
elseif kind == 'hash' then
  current = redis.call('HGET', KEYS[1], 'v') or '?'
elseif kind ~= 'none' then
  current = '?'
end
`;

/**
 * putActor(KEYS[1]=actor, KEYS[2]=lock or the actor, ARGV[1]=expected version, ARGV[2]=the record
 * `<expected + 1>:<data>`, ARGV[3]=lock token or '', ARGV[4]=release lock "1"|"0", ARGV[5]=channel or
 * '', ARGV[6]=message) → new version: {@link PUT} for a string actor record.
 */
export const PUT_ACTOR = `
local expected = ARGV[1]
if ARGV[3] ~= '' then
  if redis.call('GET', KEYS[2]) ~= ARGV[3] then return -3 end
end
${ACTOR_VERSION}
if expected == '0' then
  if current then return -4 end
else
  if not current then return -1 end
  if current ~= expected then return -2 end
end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[4] == '1' then redis.call('DEL', KEYS[2]) end
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
return tonumber(expected) + 1
`;

/** delActor(KEYS[1]=actor, ARGV[1]=expected version) → 1, or a failure: {@link DEL} for actors. */
export const DEL_ACTOR = `
${ACTOR_VERSION}
if not current then return -1 end
if current ~= ARGV[1] then return -2 end
redis.call('DEL', KEYS[1])
return 1
`;

/** del(KEYS[1]=record, ARGV[1]=expected version) → 1, or a failure. */
export const DEL = `
local current = redis.call('HGET', KEYS[1], 'v')
if not current then return -1 end
if current ~= ARGV[1] then return -2 end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * lockAndGet(KEYS[1]=lock, KEYS[2]=actor, ARGV[1]=token, ARGV[2]=ttl ms) → the actor's record (the
 * string, or {v, d} of a record stored as a hash) with the lock taken; -5 when the lock is held by
 * someone else; -1 (lock not taken) when the actor is missing.
 */
export const LOCK_AND_GET = `
local record
local kind = redis.call('TYPE', KEYS[2])['ok']
if kind == 'string' then
  record = redis.call('GET', KEYS[2])
elseif kind == 'hash' then
  record = redis.call('HMGET', KEYS[2], 'v', 'd')
  if not record[1] then return -1 end
else
  return -1
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -5 end
return record
`;

/** unlock(KEYS[1]=lock, ARGV[1]=token) → 1 when released, 0 when the lock was not ours. */
export const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** renew(KEYS[1]=worker, ARGV[1]=lease expiry ms) → 1, or -1 when the worker does not exist. */
export const RENEW = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'e', ARGV[1])
return 1
`;
