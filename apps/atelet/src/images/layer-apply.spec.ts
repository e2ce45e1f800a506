import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@substrate/testing';
import { chunked, gnuTar, rawTar } from '../../test/tar-fixtures';
import { applyLayer } from './layer-apply';

describe('applyLayer', () => {
  let tmp: { path: string; remove: () => void };
  beforeEach(() => (tmp = tempDir('atelet-layer')));
  afterEach(() => tmp.remove());

  function layerDir(name: string, build: (dir: string) => void): Buffer {
    const dir = join(tmp.path, name);
    mkdirSync(dir, { recursive: true });
    build(dir);
    return gnuTar(dir);
  }

  it('applies files, modes, symlinks, hard links, whiteouts and opaque dirs layer over layer', async () => {
    const root = join(tmp.path, 'rootfs');
    mkdirSync(root);
    const lower = layerDir('lower', (d) => {
      mkdirSync(join(d, 'etc'));
      writeFileSync(join(d, 'etc', 'keep'), 'keep');
      writeFileSync(join(d, 'etc', 'gone'), 'gone');
      mkdirSync(join(d, 'opaque'));
      writeFileSync(join(d, 'opaque', 'old'), 'old');
      mkdirSync(join(d, 'bin'));
      writeFileSync(join(d, 'bin', 'tool'), '#!/bin/sh\n');
      chmodSync(join(d, 'bin', 'tool'), 0o755);
      linkSync(join(d, 'bin', 'tool'), join(d, 'bin', 'tool-alias'));
      symlinkSync('tool', join(d, 'bin', 'link'));
      writeFileSync(join(d, 'secret'), 's');
      chmodSync(join(d, 'secret'), 0o600);
    });
    const upper = layerDir('upper', (d) => {
      mkdirSync(join(d, 'etc'));
      writeFileSync(join(d, 'etc', '.wh.gone'), '');
      mkdirSync(join(d, 'opaque'));
      writeFileSync(join(d, 'opaque', '.wh..wh..opq'), '');
      writeFileSync(join(d, 'opaque', 'new'), 'new');
      writeFileSync(join(d, 'etc', 'keep'), 'replaced');
    });
    const first = await applyLayer(root, chunked(lower));
    expect(first.whiteouts).toBe(0);
    const second = await applyLayer(root, chunked(upper, 100));
    expect(second.whiteouts).toBe(2);

    expect(readFileSync(join(root, 'etc', 'keep'), 'utf8')).toBe('replaced');
    expect(existsSync(join(root, 'etc', 'gone'))).toBe(false);
    expect(existsSync(join(root, 'etc', '.wh.gone'))).toBe(false);
    expect(existsSync(join(root, 'opaque', 'old'))).toBe(false);
    expect(readFileSync(join(root, 'opaque', 'new'), 'utf8')).toBe('new');
    expect(existsSync(join(root, 'opaque', '.wh..wh..opq'))).toBe(false);
    expect(statSync(join(root, 'bin', 'tool')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(root, 'secret')).mode & 0o7777).toBe(0o600);
    expect(statSync(join(root, 'bin', 'tool-alias')).ino).toBe(statSync(join(root, 'bin', 'tool')).ino);
    expect(readlinkSync(join(root, 'bin', 'link'))).toBe('tool');
  });

  it('keeps every write inside the rootfs: .. refused, symlinked parents resolved inside it', async () => {
    const root = join(tmp.path, 'rootfs');
    mkdirSync(root);
    await expect(applyLayer(root, chunked(rawTar([{ name: '../escape', content: 'x' }])))).rejects.toThrow(
      'layer entry "../escape" refused: contains ..',
    );
    // A symlink to / (absolute) then a file through it: it lands in the rootfs, not on the host.
    await applyLayer(
      root,
      chunked(
        rawTar([
          { name: 'hostroot', type: '2', linkname: '/' },
          { name: 'up', type: '2', linkname: '../../../..' },
          { name: 'hostroot/planted', content: 'inside' },
          { name: 'up/planted2', content: 'inside too' },
        ]),
      ),
    );
    expect(readFileSync(join(root, 'planted'), 'utf8')).toBe('inside');
    expect(readFileSync(join(root, 'planted2'), 'utf8')).toBe('inside too');
    expect(lstatSync(join(root, 'hostroot')).isSymbolicLink()).toBe(true);
    await expect(
      applyLayer(root, chunked(rawTar([{ name: 'h', type: '1', linkname: '../../etc/passwd' }]))),
    ).rejects.toThrow('contains ..');
    await expect(
      applyLayer(root, chunked(rawTar([{ name: 'h', type: '1', linkname: 'missing' }]))),
    ).rejects.toThrow('does not exist');
  });

  it('later entries win and type changes replace what was there', async () => {
    const root = join(tmp.path, 'rootfs');
    mkdirSync(root);
    await applyLayer(
      root,
      chunked(
        rawTar([
          { name: 'a', type: '5', mode: 0o755 },
          { name: 'a/inner', content: '1' },
          { name: 'b', content: 'file' },
          { name: 'b', content: 'second' },
        ]),
      ),
    );
    expect(readFileSync(join(root, 'b'), 'utf8')).toBe('second');
    await applyLayer(
      root,
      chunked(
        rawTar([
          { name: 'a', content: 'now a file' },
          { name: 'b', type: '5', mode: 0o700 },
          { name: 'dev', type: '6' },
        ]),
      ),
    );
    expect(readFileSync(join(root, 'a'), 'utf8')).toBe('now a file');
    expect(statSync(join(root, 'b')).isDirectory()).toBe(true);
    expect(existsSync(join(root, 'dev'))).toBe(false);
  });

  it('refuses a truncated or corrupt archive', async () => {
    const root = join(tmp.path, 'rootfs');
    mkdirSync(root);
    const tar = rawTar([{ name: 'big', content: 'x'.repeat(5000) }]);
    await expect(applyLayer(root, chunked(tar.subarray(0, 2048)))).rejects.toThrow('truncated tar stream');
    const corrupt = Buffer.from(tar);
    corrupt[10] = 0x41;
    await expect(applyLayer(root, chunked(corrupt))).rejects.toThrow('tar header checksum mismatch');
  });

  it('reads pax long names and link targets as GNU tar writes them', async () => {
    const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`;
    const lower = layerDir('long', (d) => {
      mkdirSync(join(d, deep), { recursive: true });
      writeFileSync(join(d, deep, `${'n'.repeat(120)}.txt`), 'long');
      symlinkSync(`${deep}/${'n'.repeat(120)}.txt`, join(d, 'shortcut'));
    });
    const root = join(tmp.path, 'rootfs');
    mkdirSync(root);
    await applyLayer(root, chunked(lower, 4096));
    expect(readFileSync(join(root, deep, `${'n'.repeat(120)}.txt`), 'utf8')).toBe('long');
    expect(readFileSync(join(root, 'shortcut'), 'utf8')).toBe('long');
  });
});
