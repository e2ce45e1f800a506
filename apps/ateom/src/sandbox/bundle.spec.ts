import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTOR_ID_PATH, buildOciSpec, writeActorIdentity, writeBundle, type BundleSpec } from './bundle';
import { InvalidSpecError } from './errors';

const base: BundleSpec = {
  args: ['/bin/node', '/app/counter.js'],
  env: ['PATH=/bin'],
  rootfs: '/var/lib/ateom/rootfs',
  readonlyRootfs: false,
  networkNamespacePath: '/run/netns/ate-w1',
  actorIdFile: '/var/lib/ateom/w1/ate/actor-id',
};

interface Spec {
  process: { args: string[]; env: string[]; cwd: string };
  root: { path: string; readonly: boolean };
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: { namespaces: { type: string; path?: string }[] };
}

describe('OCI bundle', () => {
  it('joins the worker’s network namespace by path and mounts the actor id read-only', () => {
    const spec = buildOciSpec(base) as unknown as Spec;
    expect(spec.process).toMatchObject({ args: base.args, env: ['PATH=/bin'], cwd: '/' });
    expect(spec.root).toEqual({ path: '/var/lib/ateom/rootfs', readonly: false });
    expect(spec.linux.namespaces).toContainEqual({ type: 'network', path: '/run/netns/ate-w1' });
    expect(spec.mounts).toContainEqual({
      destination: ACTOR_ID_PATH,
      type: 'bind',
      source: '/var/lib/ateom/w1/ate/actor-id',
      options: ['rbind', 'ro'],
    });
  });

  it('adds durable dirs as read-write bind mounts', () => {
    const spec = buildOciSpec({
      ...base,
      durableMounts: [{ source: '/var/lib/ateom/w1/durable/data', destination: '/data' }],
    }) as unknown as Spec;
    expect(spec.mounts).toContainEqual({
      destination: '/data',
      type: 'bind',
      source: '/var/lib/ateom/w1/durable/data',
      options: ['rbind', 'rw'],
    });
  });

  it('carries no container annotations for a sandbox of one container', () => {
    expect(buildOciSpec(base)).not.toHaveProperty('annotations');
  });

  it('marks the pause container as the sandbox and an app container as joining it, by annotation', () => {
    const pause = buildOciSpec({
      ...base,
      args: ['/pause'],
      actorIdFile: undefined,
      role: { type: 'sandbox', name: 'pause' },
    }) as unknown as Spec & { annotations: Record<string, string> };
    expect(pause.annotations).toEqual({
      'io.kubernetes.cri.container-type': 'sandbox',
      'io.kubernetes.cri.container-name': 'pause',
    });
    // The pause container does not see the actor's identity.
    expect(pause.mounts.map((mount) => mount.destination)).not.toContain(ACTOR_ID_PATH);
    const app = buildOciSpec({
      ...base,
      role: { type: 'container', name: 'counter', sandboxId: 'pause' },
    }) as unknown as Spec & { annotations: Record<string, string> };
    expect(app.annotations).toEqual({
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': 'counter',
      'io.kubernetes.cri.sandbox-id': 'pause',
    });
    expect(app.mounts.map((mount) => mount.destination)).toContain(ACTOR_ID_PATH);
  });

  it.each<[string, Partial<BundleSpec>]>([
    ['no program', { args: [] }],
    ['a relative rootfs', { rootfs: 'rootfs' }],
    ['a rootfs with ..', { rootfs: '/var/../etc' }],
    ['a relative cwd', { cwd: 'app' }],
    ['a malformed env entry', { env: ['NOEQUALS'] }],
    ['a relative durable mount', { durableMounts: [{ source: '/d', destination: 'data' }] }],
  ])('refuses %s', (_what, change) => {
    expect(() => buildOciSpec({ ...base, ...change })).toThrow(InvalidSpecError);
  });

  describe('on disk', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'ateom-bundle-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('writes config.json', async () => {
      const path = await writeBundle(join(dir, 'bundle'), base);
      expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(buildOciSpec(base));
    });

    it('writes the actor id read-only and replaces it on the next run', async () => {
      const first = await writeActorIdentity(dir, 'counter-1');
      expect(await readFile(first, 'utf8')).toBe('counter-1');
      expect((await stat(first)).mode & 0o777).toBe(0o444);
      const second = await writeActorIdentity(dir, 'counter-2');
      expect(second).toBe(first);
      expect(await readFile(second, 'utf8')).toBe('counter-2');
    });

    it('refuses an actor id that could not be a file’s whole content', async () => {
      await expect(writeActorIdentity(dir, 'a\nb')).rejects.toThrow(InvalidSpecError);
      await expect(writeActorIdentity(dir, '')).rejects.toThrow(InvalidSpecError);
    });
  });
});
