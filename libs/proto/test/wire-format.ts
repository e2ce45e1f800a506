// A deliberately tiny, independent protobuf wire-format reader and writer for the tests: it knows only
// the four wire types, so assertions about field numbers and wire types do not depend on the generated
// code under test.

/** Wire types of the protobuf binary encoding. */
export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** One top-level field occurrence: its number, wire type and raw value. */
export interface WireField {
  field: number;
  wireType: WireType;
  /** VARINT: the value; I64/I32: the little-endian bits; LEN: the payload bytes. */
  value: bigint | Uint8Array;
}

function readVarint(bytes: Uint8Array, offset: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let pos = offset; pos < bytes.length && shift < 70n; pos++) {
    const byte = bytes[pos] as number;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      return [result, pos + 1];
    }
    shift += 7n;
  }
  throw new Error(`truncated or overlong varint at offset ${offset}`);
}

function readFixed(bytes: Uint8Array, offset: number, size: number): [bigint, number] {
  if (offset + size > bytes.length) {
    throw new Error(`truncated fixed${size * 8} at offset ${offset}`);
  }
  let result = 0n;
  for (let i = size - 1; i >= 0; i--) {
    result = (result << 8n) | BigInt(bytes[offset + i] as number);
  }
  return [result, offset + size];
}

/** Splits an encoded message into its top-level fields, in wire order. */
export function readFields(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const [tag, afterTag] = readVarint(bytes, offset);
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (field === 0) {
      throw new Error(`field number 0 at offset ${offset}`);
    }
    switch (wireType) {
      case WireType.VARINT: {
        const [value, next] = readVarint(bytes, afterTag);
        fields.push({ field, wireType, value });
        offset = next;
        break;
      }
      case WireType.I64:
      case WireType.I32: {
        const [value, next] = readFixed(bytes, afterTag, wireType === WireType.I64 ? 8 : 4);
        fields.push({ field, wireType, value });
        offset = next;
        break;
      }
      case WireType.LEN: {
        const [length, start] = readVarint(bytes, afterTag);
        const end = start + Number(length);
        if (end > bytes.length) {
          throw new Error(`field ${field}: length ${length} runs past the end`);
        }
        fields.push({ field, wireType, value: bytes.subarray(start, end) });
        offset = end;
        break;
      }
      default:
        throw new Error(`field ${field}: unsupported wire type ${wireType}`);
    }
  }
  return fields;
}

/** The `[field, wireType]` pairs of an encoded message, in wire order. */
export function fieldLayout(bytes: Uint8Array): Array<[number, WireType]> {
  return readFields(bytes).map(({ field, wireType }) => [field, wireType]);
}

/** The single occurrence of a field; throws if it is absent or repeated. */
export function only(bytes: Uint8Array, field: number): WireField {
  const found = readFields(bytes).filter((f) => f.field === field);
  if (found.length !== 1 || !found[0]) {
    throw new Error(`expected field ${field} exactly once, found it ${found.length} times`);
  }
  return found[0];
}

/** The payload of a LEN field as UTF-8 text. */
export function text(field: WireField): string {
  if (!(field.value instanceof Uint8Array)) {
    throw new Error(`field ${field.field} is not length-delimited`);
  }
  return new TextDecoder().decode(field.value);
}

/** The payload of a LEN field as bytes. */
export function payload(field: WireField): Uint8Array {
  if (!(field.value instanceof Uint8Array)) {
    throw new Error(`field ${field.field} is not length-delimited`);
  }
  return field.value;
}

function varint(value: bigint): number[] {
  const out: number[] = [];
  let rest = BigInt.asUintN(64, value);
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(rest === 0n ? low : low | 0x80);
  } while (rest !== 0n);
  return out;
}

/** Hand-encodes fields the way any conforming protobuf implementation (such as upstream's Go code) would. */
export const encode = {
  varint: (field: number, value: number | bigint | boolean): number[] => [
    ...varint(BigInt((field << 3) | WireType.VARINT)),
    ...varint(typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value)),
  ],
  bytes: (field: number, value: Uint8Array | number[]): number[] => [
    ...varint(BigInt((field << 3) | WireType.LEN)),
    ...varint(BigInt(value.length)),
    ...value,
  ],
  string: (field: number, value: string): number[] =>
    encode.bytes(field, [...new TextEncoder().encode(value)]),
  message: (field: number, ...parts: number[][]): number[] => encode.bytes(field, parts.flat()),
};

/** Concatenates hand-encoded fields into one message. */
export function message(...parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}
