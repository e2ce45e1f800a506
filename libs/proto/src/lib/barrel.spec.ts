// The curated barrel must expose every message, enum and service the generator emits (so a new RPC is
// not silently unreachable through `@substrate/proto`), and nothing of ts-proto's internals.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as generatedAteapi from '../generated/ateapi/ateapi';
import * as generatedAteom from '../generated/ateom/ateom';
import * as generatedAtelet from '../generated/atelet/atelet';
import * as proto from '../index';

/** Runtime exports the barrel leaves out on purpose. */
const INTERNAL = /^(protobufPackage|protobufFileName)$|_[A-Za-z]+Entry$/;

function publicNames(module: object): string[] {
  return Object.keys(module)
    .filter((name) => !INTERNAL.test(name))
    .sort();
}

describe('@substrate/proto barrel', () => {
  it.each([
    ['ateapi', generatedAteapi, proto.ateapi],
    ['atelet', generatedAtelet, proto.atelet],
    ['ateom', generatedAteom, proto.ateom],
  ])(
    'exports every generated message, enum and service of %s in its namespace',
    (_name, generated, curated) => {
      expect(Object.keys(curated).sort()).toEqual(publicNames(generated));
    },
  );

  it('keeps same-named messages of atelet and ateom apart', () => {
    expect(proto.atelet.Container).not.toBe(proto.ateom.Container);
    expect(Object.keys(proto.atelet.Container.fromPartial({}))).toContain('image');
    expect(Object.keys(proto.ateom.Container.fromPartial({}))).toContain('durableDirVolumes');
  });

  it('points PROTO_DIR at the .proto sources', () => {
    for (const file of Object.values(proto.PROTO_FILES)) {
      expect(existsSync(join(proto.PROTO_DIR, file))).toBe(true);
    }
  });
});
