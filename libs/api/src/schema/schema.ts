/**
 * A small schema-definition layer: one definition per CRD field from which both the runtime
 * validator/defaulter (`validate.ts`) and the CRD's OpenAPI v3 structural schema (`openapi.ts`) are
 * derived. Every CEL rule carries its TypeScript twin (`check`) in the same object, so the two are
 * written, reviewed and changed together.
 */

/** A JSON value, as stored by the Kubernetes API server. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/**
 * One `x-kubernetes-validations` entry: the CEL expression a kube-apiserver evaluates, the message it
 * reports, and the same rule as a TypeScript predicate over the defaulted value.
 */
export interface Rule<T> {
  /** CEL expression over `self` (and `oldSelf` for transition rules). */
  readonly rule: string;
  readonly message: string;
  /** Path relative to the node the rule sits on where failures are reported, e.g. `.onCommit`. */
  readonly fieldPath?: string;
  /** Transition rules compare with the stored object and only run on update. */
  readonly transition: boolean;
  readonly check: (self: T, oldSelf: T) => boolean;
}

/** `x-kubernetes-list-type`; `map` lists are keyed by `listMapKeys`. */
export type ListType = 'atomic' | 'map';

interface Base {
  readonly description?: string;
  readonly default?: Json;
  readonly rules: readonly Rule<never>[];
  /** Published in the CRD instead of the derived schema (ObjectMeta is validated by the API server itself). */
  readonly emitAs?: { readonly [key: string]: Json };
}

/** Runtime description of one schema node. */
export type Def = Base &
  (
    | {
        readonly type: 'string';
        readonly enum?: readonly string[];
        readonly format?: 'date-time';
        readonly minLength?: number;
        readonly maxLength?: number;
        readonly pattern?: string;
      }
    | {
        readonly type: 'integer';
        readonly format: 'int32' | 'int64';
        readonly minimum?: number;
        readonly maximum?: number;
      }
    | { readonly type: 'boolean' }
    | {
        readonly type: 'object';
        readonly properties: Readonly<Record<string, AnySchema>>;
        readonly required: readonly string[];
        readonly minProperties?: number;
        readonly maxProperties?: number;
        readonly mapType?: 'atomic';
      }
    | {
        readonly type: 'map';
        readonly values: AnySchema;
        readonly minProperties?: number;
        readonly maxProperties?: number;
      }
    | {
        readonly type: 'array';
        readonly items: AnySchema;
        readonly minItems?: number;
        readonly maxItems?: number;
        readonly listType?: ListType;
        readonly listMapKeys?: readonly string[];
      }
    | { readonly type: 'int-or-string'; readonly pattern?: string }
    | { readonly type: 'preserve-unknown' }
  );

declare const types: unique symbol;

/**
 * A schema node. `Out` is the value after defaulting, `In` what a manifest may contain, and
 * `Defaulted` whether the node has a default (which makes the property present after defaulting).
 */
export interface Schema<Out = unknown, In = Out, Defaulted extends boolean = boolean> {
  readonly def: Def;
  /** Type-level only; never set. */
  readonly [types]?: { readonly out: Out; readonly in: In; readonly defaulted: Defaulted };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the widest node type; variance makes `unknown` too narrow for `In`
export type AnySchema = Schema<any, any, boolean>;

/** The defaulted TypeScript type a node describes. */
export type OutputOf<S> = S extends Schema<infer O, unknown, boolean> ? O : never;
/** The TypeScript type a manifest may contain for a node (defaulted fields optional). */
export type InputOf<S> = S extends Schema<unknown, infer I, boolean> ? I : never;

type Simplify<T> = { [K in keyof T]: T[K] };
type DefaultedKeys<P> = { [K in keyof P]: P[K] extends Schema<unknown, unknown, true> ? K : never }[keyof P];
type EmptyObject = Record<string, never>;

/** Required and defaulted properties are present after defaulting; the rest stay optional. */
export type ObjectOutput<P, R extends keyof P> = [keyof P] extends [never]
  ? EmptyObject
  : Simplify<
      { [K in R | DefaultedKeys<P>]: OutputOf<P[K]> } & {
        [K in Exclude<keyof P, R | DefaultedKeys<P>>]?: OutputOf<P[K]>;
      }
    >;
/** A manifest must spell out required properties unless the API server defaults them. */
export type ObjectInput<P, R extends keyof P> = [keyof P] extends [never]
  ? EmptyObject
  : Simplify<
      { [K in Exclude<R, DefaultedKeys<P>>]: InputOf<P[K]> } & {
        [K in Exclude<keyof P, Exclude<R, DefaultedKeys<P>>>]?: InputOf<P[K]>;
      }
    >;

interface Opts<T> {
  readonly description?: string;
  readonly rules?: readonly Rule<T>[];
}
type HasDefault<O> = O extends { readonly default: unknown } ? true : false;

const node = <S extends AnySchema>(def: Def): S => ({ def }) as S;
const rulesOf = <T>(o: Opts<T>): readonly Rule<never>[] => (o.rules ?? []) as readonly Rule<never>[];

/** A CEL validation rule with its TypeScript twin. */
export function cel<T>(
  rule: string,
  message: string,
  check: (self: T) => boolean,
  fieldPath?: string,
): Rule<T> {
  return {
    rule,
    message,
    check: (self) => check(self),
    transition: false,
    ...(fieldPath ? { fieldPath } : {}),
  };
}

/** A CEL transition rule (uses `oldSelf`); enforced by `validateUpdate`. */
export function celTransition<T>(
  rule: string,
  message: string,
  check: (self: T, oldSelf: T) => boolean,
): Rule<T> {
  return { rule, message, check, transition: true };
}

interface StrOpts extends Opts<string> {
  readonly default?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly format?: 'date-time';
}

/** A string. */
export function str<const O extends StrOpts>(o: O = {} as O): Schema<string, string, HasDefault<O>> {
  const { rules: _r, ...rest } = o;
  return node({ type: 'string', ...rest, rules: rulesOf(o) });
}

/** A string restricted to `values` (OpenAPI `enum`). */
export function enumOf<const V extends string, const O extends Opts<V> & { readonly default?: V }>(
  values: readonly V[],
  o: O = {} as O,
): Schema<V, V, HasDefault<O>> {
  const { rules: _r, ...rest } = o;
  return node({ type: 'string', enum: values, ...rest, rules: rulesOf(o) });
}

interface IntOpts extends Opts<number> {
  readonly default?: number;
  readonly minimum?: number;
  readonly maximum?: number;
}

/** A 32-bit integer. */
export function int32<const O extends IntOpts>(o: O = {} as O): Schema<number, number, HasDefault<O>> {
  const { rules: _r, ...rest } = o;
  return node({ type: 'integer', format: 'int32', ...rest, rules: rulesOf(o) });
}

/** A 64-bit integer (held as a JavaScript number; values beyond 2^53 are rejected). */
export function int64<const O extends IntOpts>(o: O = {} as O): Schema<number, number, HasDefault<O>> {
  const { rules: _r, ...rest } = o;
  return node({ type: 'integer', format: 'int64', ...rest, rules: rulesOf(o) });
}

/** A boolean. */
export function bool(o: Opts<boolean> = {}): Schema<boolean, boolean, false> {
  return node({
    type: 'boolean',
    ...(o.description ? { description: o.description } : {}),
    rules: rulesOf(o),
  });
}

interface ObjOpts<T, R> extends Opts<T> {
  readonly required?: readonly R[];
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly mapType?: 'atomic';
  readonly emitAs?: { readonly [key: string]: Json };
}

/** An object with declared properties; fields not declared here are rejected. */
export function obj<P extends Record<string, AnySchema>, const R extends keyof P & string = never>(
  properties: P,
  o: ObjOpts<ObjectOutput<P, R>, R> = {},
): Schema<ObjectOutput<P, R>, ObjectInput<P, R>, false> {
  const { rules: _r, required = [], ...rest } = o;
  return node({ type: 'object', properties, required, ...rest, rules: rulesOf(o) });
}

interface ArrOpts<T> extends Opts<T> {
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly listType?: ListType;
  readonly listMapKeys?: readonly string[];
}

/** A list. */
export function arr<I extends AnySchema>(
  items: I,
  o: ArrOpts<OutputOf<I>[]> = {},
): Schema<OutputOf<I>[], InputOf<I>[], false> {
  const { rules: _r, ...rest } = o;
  return node({ type: 'array', items, ...rest, rules: rulesOf(o) });
}

interface MapOpts<T> extends Opts<T> {
  readonly minProperties?: number;
  readonly maxProperties?: number;
}

/** A map with string keys (`additionalProperties`). */
export function map<V extends AnySchema>(
  values: V,
  o: MapOpts<Record<string, OutputOf<V>>> = {},
): Schema<Record<string, OutputOf<V>>, Record<string, InputOf<V>>, false> {
  const { rules: _r, ...rest } = o;
  return node({ type: 'map', values, ...rest, rules: rulesOf(o) });
}

/** An int-or-string (`x-kubernetes-int-or-string`), e.g. a resource quantity. */
export function intOrString(
  o: Opts<number | string> & { readonly pattern?: string } = {},
): Schema<number | string> {
  const { rules: _r, ...rest } = o;
  return node({ type: 'int-or-string', ...rest, rules: rulesOf(o) });
}

/** An object kept as is (`x-kubernetes-preserve-unknown-fields`). */
export function preserveUnknown(o: { readonly description?: string } = {}): Schema<Record<string, unknown>> {
  return node({ type: 'preserve-unknown', ...o, rules: [] });
}

const celString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The "exactly one of these fields" rule (kubebuilder's `ExactlyOneOf`), as CEL and as a predicate.
 */
export function exactlyOneOf<T extends object>(...fields: readonly (keyof T & string)[]): Rule<T> {
  return cel<T>(
    `[${fields.map((f) => `has(self.${f})`).join(', ')}].filter(x, x).size() == 1`,
    `exactly one of the fields in [${fields.join(' ')}] must be set`,
    (self) => fields.filter((f) => self[f] !== undefined).length === 1,
  );
}

/** `self.matches(pattern)` with the same pattern compiled for the predicate. */
export function matches(pattern: string, message: string): Rule<string> {
  const re = new RegExp(pattern);
  return cel<string>(`self.matches(${celString(pattern)})`, message, (s) => re.test(s));
}
