// Pulling from a real registry (Debian's docker-registry on loopback, the counter image pushed with skopeo)
// through a bearer-token front that answers 401 with a challenge until the client fetched a token.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { buildImage } from '@substrate/images';
import { ManagedProcess, describeWithComponents, freePort, requireTool, tempDir } from '@substrate/testing';
import { describeTree } from '../../test/tree';
import { goArch } from '../config';
import { OciLayoutSource, RegistrySource } from './image-source';
import { RootfsCache } from './rootfs-cache';

describeWithComponents(
  ['docker-registry', 'skopeo'],
  'images from a registry (Registry HTTP API v2 with token auth)',
  () => {
    let tmp: { path: string; remove: () => void };
    let registry: ManagedProcess;
    let front: Server;
    let frontPort: number;
    const seen = { unauthorized: 0, tokens: [] as string[], proxied: 0 };

    beforeAll(async () => {
      tmp = tempDir('atelet-registry');
      const registryPort = await freePort();
      writeFileSync(
        join(tmp.path, 'config.yml'),
        `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(tmp.path, 'data')}\nhttp:\n  addr: 127.0.0.1:${registryPort}\n`,
      );
      registry = ManagedProcess.start('docker-registry', requireTool('docker-registry'), [
        'serve',
        join(tmp.path, 'config.yml'),
      ]);
      await registry.waitUntil(
        async () =>
          (await fetch(`http://127.0.0.1:${registryPort}/v2/`).catch(() => undefined))?.status === 200,
      );
      const image = await buildImage('counter');
      execFileSync(requireTool('skopeo'), [
        '--insecure-policy',
        'copy',
        '--dest-tls-verify=false',
        `oci:${image.layoutDir}:${image.tag}`,
        `docker://127.0.0.1:${registryPort}/demo/counter:v1`,
      ]);
      frontPort = await freePort();
      front = createServer((req, res) => {
        if (req.url?.startsWith('/token') === true) {
          const url = new URL(req.url, 'http://x');
          seen.tokens.push(`${url.searchParams.get('service') ?? ''} ${url.searchParams.get('scope') ?? ''}`);
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ token: 't0k' }));
          return;
        }
        if (req.headers.authorization !== 'Bearer t0k') {
          seen.unauthorized++;
          res.writeHead(401, {
            'www-authenticate': `Bearer realm="http://127.0.0.1:${frontPort}/token",service="test-registry",scope="repository:demo/counter:pull"`,
          });
          res.end();
          return;
        }
        seen.proxied++;
        const upstream = request(
          {
            host: '127.0.0.1',
            port: registryPort,
            path: req.url,
            method: req.method,
            headers: { ...req.headers, host: `127.0.0.1:${registryPort}` },
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.once('error', () => res.destroy());
        req.pipe(upstream);
      });
      await new Promise<void>((done) => front.listen(frontPort, '127.0.0.1', done));
    });

    afterAll(async () => {
      await new Promise((done) => front?.close(done));
      await registry?.stop();
      tmp?.remove();
    });

    it('pulls the counter image with a token and unpacks the same tree as from its OCI layout', async () => {
      const cache = (name: string) =>
        new RootfsCache(
          join(tmp.path, name),
          1024 ** 3,
          { layout: new OciLayoutSource(), registry: new RegistrySource({ timeoutMs: 60_000 }) },
          goArch(),
        );
      const pulled = cache('pulled');
      await pulled.init();
      const fromRegistry = await pulled.prepare(`127.0.0.1:${frontPort}/demo/counter:v1`);
      expect(seen.unauthorized).toBe(1);
      expect(seen.tokens).toEqual(['test-registry repository:demo/counter:pull']);
      expect(seen.proxied).toBeGreaterThanOrEqual(3); // manifest, config, layer
      expect(fromRegistry.config.Cmd).toEqual(['/bin/node', '/app/counter.js']);

      const image = await buildImage('counter');
      const local = cache('local');
      await local.init();
      const fromLayout = await local.prepare(`oci:${image.layoutDir}:${image.tag}`);
      expect(describeTree(fromRegistry.rootfs)).toEqual(describeTree(fromLayout.rootfs));

      // By digest: the same manifest, a cache hit.
      const again = await pulled.prepare(`127.0.0.1:${frontPort}/demo/counter@${fromRegistry.digest}`);
      expect(again).toMatchObject({ cached: true, digest: fromRegistry.digest });
      await expect(pulled.prepare(`127.0.0.1:${frontPort}/demo/counter:nope`)).rejects.toThrow(
        'manifest nope not found',
      );
    });
  },
);
