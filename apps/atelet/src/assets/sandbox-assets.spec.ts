import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { tempDir } from '@substrate/testing';
import { SandboxAssetCache, assetsForArch } from './sandbox-assets';

describe('SandboxAssetCache', () => {
  let tmp: { path: string; remove: () => void };
  let server: Server;
  let served = 0;
  const content = Buffer.from('#!/bin/sh\necho runsc\n');
  const sha256 = createHash('sha256').update(content).digest('hex');

  beforeEach(async () => {
    tmp = tempDir('atelet-assets');
    writeFileSync(join(tmp.path, 'runsc'), content);
    served = 0;
    server = createServer((req, res) => {
      served++;
      if (req.url === '/runsc') res.end(content);
      else res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  });
  afterEach(async () => {
    await new Promise((done) => server.close(done));
    tmp.remove();
  });

  const url = (path: string) => `http://127.0.0.1:${(server.address() as { port: number }).port}${path}`;

  it('fetches file:// and http:// assets once, verified, executable, named by sha256', async () => {
    const cache = new SandboxAssetCache(join(tmp.path, 'cache'));
    const path = await cache.ensure('runsc', { url: `file://${join(tmp.path, 'runsc')}`, sha256 });
    expect(path).toBe(join(tmp.path, 'cache', `runsc-${sha256}`));
    expect(statSync(path).mode & 0o777).toBe(0o755);
    const other = new SandboxAssetCache(join(tmp.path, 'cache2'));
    const [a, b] = await Promise.all([
      other.ensure('runsc', { url: url('/runsc'), sha256 }),
      other.ensure('runsc', { url: url('/runsc'), sha256 }),
    ]);
    expect(a).toBe(b);
    expect(served).toBe(1);
    await other.ensure('runsc', { url: url('/runsc'), sha256 });
    expect(served).toBe(1);
  });

  it('refuses an asset whose sha256 differs and keeps nothing of it', async () => {
    const cache = new SandboxAssetCache(join(tmp.path, 'cache'));
    const wrong = 'f'.repeat(64);
    await expect(cache.ensure('runsc', { url: url('/runsc'), sha256: wrong })).rejects.toThrow(
      `sandbox asset ${url('/runsc')} has sha256 ${sha256}, expected ${wrong}; refusing to use it`,
    );
    expect(readdirSync(join(tmp.path, 'cache'))).toEqual([]);
    await expect(cache.ensure('runsc', { url: url('/missing'), sha256 })).rejects.toThrow(
      `cannot fetch sandbox asset ${url('/missing')}: HTTP 404`,
    );
    await expect(cache.ensure('runsc', { url: 'ftp://x/y', sha256 })).rejects.toThrow(
      'unsupported scheme ftp:',
    );
    expect(existsSync(join(tmp.path, 'cache', `runsc-${sha256}`))).toBe(false);
  });

  it("picks the node's architecture", () => {
    const assets = { assets: { amd64: { files: { runsc: { url: 'u', sha256: 's' } } } } };
    expect(assetsForArch(assets, 'amd64')).toEqual({ runsc: { url: 'u', sha256: 's' } });
    expect(() => assetsForArch(assets, 'arm64')).toThrow(
      "sandbox_assets has no files for this node's architecture arm64 (has: amd64)",
    );
  });
});
