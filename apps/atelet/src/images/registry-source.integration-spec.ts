// Pulling from a real registry (Debian's docker-registry on loopback, the counter image pushed with skopeo)
// through two auth fronts: one answering 401 with a Bearer challenge until the client fetched a token
// (the token realm wants basic credentials), one with a plain Basic challenge.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { buildImage } from '@substrate/images';
import { ManagedProcess, describeWithComponents, freePort, requireTool, tempDir } from '@substrate/testing';
import { describeTree } from '../../test/tree';
import { goArch } from '../config';
import { OciLayoutSource, RegistrySource } from './image-source';
import { RootfsCache } from './rootfs-cache';

const BASIC = `Basic ${Buffer.from('puller:s3cret').toString('base64')}`;

describeWithComponents(
  ['docker-registry', 'skopeo'],
  'images from a registry (Registry HTTP API v2 with auth)',
  () => {
    let tmp: { path: string; remove: () => void };
    let registry: ManagedProcess;
    let registryPort: number;
    const servers: Server[] = [];
    let tokenPort: number;
    let basicPort: number;
    const seen = { unauthorized: 0, tokens: [] as string[], proxied: 0 };

    function proxy(req: IncomingMessage, res: ServerResponse): void {
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
    }

    async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
      const port = await freePort();
      const server = createServer(handler);
      servers.push(server);
      await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
      return port;
    }

    const credentials = (host: string) =>
      host === `127.0.0.1:${tokenPort}` || host === `127.0.0.1:${basicPort}`
        ? { username: 'puller', password: 's3cret' }
        : undefined;
    const cache = (name: string, withCredentials = true) =>
      new RootfsCache(
        join(tmp.path, name),
        1024 ** 3,
        {
          layout: new OciLayoutSource(),
          registry: new RegistrySource({ timeoutMs: 60_000, ...(withCredentials && { credentials }) }),
        },
        goArch(),
      );

    beforeAll(async () => {
      tmp = tempDir('atelet-registry');
      registryPort = await freePort();
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
      tokenPort = await serve((req, res) => {
        if (req.url?.startsWith('/token') === true) {
          if (req.headers.authorization !== BASIC) {
            res.writeHead(401).end();
            return;
          }
          const url = new URL(req.url, 'http://x');
          seen.tokens.push(`${url.searchParams.get('service') ?? ''} ${url.searchParams.get('scope') ?? ''}`);
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ token: 't0k' }));
          return;
        }
        if (req.headers.authorization !== 'Bearer t0k') {
          seen.unauthorized++;
          res.writeHead(401, {
            'www-authenticate': `Bearer realm="http://127.0.0.1:${tokenPort}/token",service="test-registry",scope="repository:demo/counter:pull"`,
          });
          res.end();
          return;
        }
        proxy(req, res);
      });
      basicPort = await serve((req, res) => {
        if (req.headers.authorization !== BASIC) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="test-registry"' }).end();
          return;
        }
        proxy(req, res);
      });
    });

    afterAll(async () => {
      for (const server of servers) await new Promise((done) => server.close(done));
      await registry?.stop();
      tmp?.remove();
    });

    it('pulls the counter image with a token and unpacks the same tree as from its OCI layout', async () => {
      const pulled = cache('pulled');
      await pulled.init();
      const fromRegistry = await pulled.prepare(`127.0.0.1:${tokenPort}/demo/counter:v1`);
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
      const again = await pulled.prepare(`127.0.0.1:${tokenPort}/demo/counter@${fromRegistry.digest}`);
      expect(again).toMatchObject({ cached: true, digest: fromRegistry.digest });
      await expect(pulled.prepare(`127.0.0.1:${tokenPort}/demo/counter:nope`)).rejects.toThrow(
        'manifest nope not found',
      );
    });

    it('answers a Basic challenge with the credentials, and fails clearly without them', async () => {
      const basic = cache('basic');
      await basic.init();
      expect((await basic.prepare(`127.0.0.1:${basicPort}/demo/counter:v1`)).config.Cmd).toEqual([
        '/bin/node',
        '/app/counter.js',
      ]);
      const anonymous = cache('anonymous', false);
      await anonymous.init();
      await expect(anonymous.prepare(`127.0.0.1:${tokenPort}/demo/counter:v1`)).rejects.toThrow(
        'manifest v1: HTTP 401',
      );
      await expect(anonymous.prepare(`127.0.0.1:${basicPort}/demo/counter:v1`)).rejects.toThrow(
        'manifest v1: HTTP 401',
      );
    });
  },
);
