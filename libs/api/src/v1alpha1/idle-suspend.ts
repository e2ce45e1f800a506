import { type FieldIssue } from '../errors';

/**
 * Idle auto-suspend timeout of an actor, on the ActorTemplate's or the actor's own annotations: a Go
 * duration (`30s`, `5m`, `1h30m`, `1.5h`), or `0` / `off` to disable. The actor's annotation wins over
 * its template's, which wins over the router's global default (`ATENET_IDLE_SUSPEND_MS`, off unless set).
 */
export const IDLE_SUSPEND_AFTER_ANNOTATION = 'substrate.ate.dev/idle-suspend-after';

/** The shortest idle timeout accepted (shorter ones would suspend between two requests of one client). */
export const MIN_IDLE_SUSPEND_AFTER_MS = 1_000;

/** Go's `time.ParseDuration` units, in nanoseconds. */
const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
/** Go's largest duration (2^63 − 1 ns), in nanoseconds (as the nearest double). */
const MAX_DURATION_NS = 2 ** 63;

const EXPECTED = 'expected a duration such as 30s, 5m or 1h30m, or 0 or off to disable';

/** What an idle timeout value means: milliseconds, 0 = off; or why it is not one. */
export type IdleSuspendAfter =
  { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly problem: string };

/**
 * Parses an idle timeout value strictly: Go duration syntax (`time.ParseDuration`: decimal numbers
 * with units `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`, concatenated, an optional leading `+`), or `0` /
 * `off` (disabled). Negative durations, a missing unit, spaces and anything shorter than 1 s are refused.
 */
export function parseIdleSuspendAfter(value: string): IdleSuspendAfter {
  const bad = (why: string): IdleSuspendAfter => ({
    ok: false,
    problem: `${JSON.stringify(value)} ${why}`,
  });
  if (value === 'off' || value === '0' || value === '+0') return { ok: true, ms: 0 };
  if (value.startsWith('-')) return bad(`is negative: ${EXPECTED}`);
  const body = value.startsWith('+') ? value.slice(1) : value;
  if (body === '') return bad(`is not a duration: ${EXPECTED}`);
  let ns = 0;
  let rest = body;
  while (rest !== '') {
    const match = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/.exec(rest);
    const [whole = '', intPart = '', fracPart = '', unit = ''] = match ?? [];
    if (!match || (intPart === '' && fracPart === '')) return bad(`is not a duration: ${EXPECTED}`);
    const scale = UNIT_NS[unit];
    if (scale === undefined) return bad(`has an unknown unit ${JSON.stringify(unit)}: ${EXPECTED}`);
    ns += Number(`${intPart || '0'}.${fracPart || '0'}`) * scale;
    rest = rest.slice(whole.length);
  }
  if (ns >= MAX_DURATION_NS) return bad('is out of range');
  const ms = Math.round(ns / 1e6);
  if (ms === 0) return { ok: true, ms: 0 };
  if (ms < MIN_IDLE_SUSPEND_AFTER_MS) return bad('is shorter than 1s (use 0 or off to disable)');
  return { ok: true, ms };
}

/**
 * The problems with the idle timeout annotation in `annotations` (none when it is absent or valid),
 * reported at `path` (e.g. `metadata.annotations`) the way the API server reports a field.
 */
export function idleSuspendAfterIssues(
  annotations: Readonly<Record<string, string>> | undefined,
  path = 'metadata.annotations',
): FieldIssue[] {
  const value = annotations?.[IDLE_SUSPEND_AFTER_ANNOTATION];
  if (value === undefined) return [];
  const parsed = parseIdleSuspendAfter(value);
  return parsed.ok
    ? []
    : [{ path: `${path}[${IDLE_SUSPEND_AFTER_ANNOTATION}]`, type: 'invalid', message: parsed.problem }];
}

/**
 * The effective idle timeout of an actor in milliseconds (0 = off): its own annotation, else its
 * template's; `undefined` when neither sets one, so the router's global default applies. Both sets of
 * annotations are validated where they are set (CreateActor, template load); an invalid value here is a
 * bug and throws.
 */
export function resolveIdleSuspendAfter(
  actorAnnotations: Readonly<Record<string, string>> | undefined,
  templateAnnotations: Readonly<Record<string, string>> | undefined,
): number | undefined {
  for (const annotations of [actorAnnotations, templateAnnotations]) {
    const value = annotations?.[IDLE_SUSPEND_AFTER_ANNOTATION];
    if (value === undefined) continue;
    const parsed = parseIdleSuspendAfter(value);
    if (!parsed.ok) throw new TypeError(`${IDLE_SUSPEND_AFTER_ANNOTATION}: ${parsed.problem}`);
    return parsed.ms;
  }
  return undefined;
}
