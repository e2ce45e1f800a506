import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActorTemplate } from '@substrate/api';
import { MemoryCatalog } from './catalog';
import { FileCatalog } from './file-catalog';

const IDLE = 'substrate.ate.dev/idle-suspend-after';

const template = (name: string, annotations?: Record<string, string>): ActorTemplate =>
  ({
    apiVersion: 'ate.dev/v1alpha1',
    kind: 'ActorTemplate',
    metadata: { name, namespace: 'default', ...(annotations ? { annotations } : {}) },
    spec: {
      pauseImage: `registry.local/pause@sha256:${'0'.repeat(64)}`,
      snapshotsConfig: { location: 'file:///tmp/s', onPause: 'Full', onCommit: 'Full' },
      sandboxClass: 'gvisor',
    },
  }) as ActorTemplate;

const manifest = (idle: string) => `apiVersion: ate.dev/v1alpha1
kind: ActorTemplate
metadata:
  name: web
  namespace: default
  annotations: { ${IDLE}: '${idle}' }
spec:
  pauseImage: registry.local/pause@sha256:${'0'.repeat(64)}
  snapshotsConfig: { location: 'file:///tmp/s' }
`;

describe('the catalog and the idle-suspend annotation of templates', () => {
  it('accepts a template with a valid timeout and refuses one with an invalid value, naming it', () => {
    const catalog = new MemoryCatalog([template('lazy', { [IDLE]: '5m' })]);
    expect(catalog.getTemplate('default', 'lazy')?.metadata.annotations?.[IDLE]).toBe('5m');
    expect(() => catalog.replace([template('lazy'), template('bad', { [IDLE]: 'five minutes' })])).toThrow(
      `ActorTemplate.ate.dev "bad" is invalid: metadata.annotations[${IDLE}]: "five minutes" is not a duration`,
    );
    // A refused reload keeps what was loaded before.
    expect(catalog.getTemplate('default', 'lazy')?.metadata.annotations?.[IDLE]).toBe('5m');
  });

  it('stops the file catalog at load, and keeps the previous objects on a bad edit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    try {
      writeFileSync(join(dir, 'web.yaml'), manifest('10s'));
      const catalog = new FileCatalog(dir);
      await catalog.load();
      writeFileSync(join(dir, 'web.yaml'), manifest('10 s'));
      await expect(catalog.load()).rejects.toThrow(/"10 s" is not a duration/);
      expect(catalog.getTemplate('default', 'web')?.metadata.annotations?.[IDLE]).toBe('10s');
      await expect(new FileCatalog(dir).load()).rejects.toThrow(/metadata\.annotations\[substrate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
