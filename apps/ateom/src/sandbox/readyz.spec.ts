import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { NotReadyError } from './errors';
import { probeUrl, waitUntilReady } from './readyz';

describe('readiness probe', () => {
  let server: Server;
  let port: number;
  let answers: number[];
  let requests: number;

  beforeEach(async () => {
    answers = [];
    requests = 0;
    server = createServer((req, res) => {
      requests += 1;
      res.statusCode = answers.shift() ?? 200;
      res.end(req.url);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('builds the URL like upstream: default /readyz, leading slash added', () => {
    expect(probeUrl({ host: '169.254.17.2', port: 8080 })).toBe('http://169.254.17.2:8080/readyz');
    expect(probeUrl({ host: '169.254.17.2', port: 80, path: 'healthz' })).toBe(
      'http://169.254.17.2:80/healthz',
    );
    expect(() => probeUrl({ host: '169.254.17.2', port: 0 })).toThrow(RangeError);
  });

  it('polls until a 2xx answer and reports the time and attempts', async () => {
    answers = [503, 500, 404];
    const ready = await waitUntilReady({ host: '127.0.0.1', port, intervalMs: 1 });
    expect(ready.attempts).toBe(4);
    expect(requests).toBe(4);
    expect(ready.elapsedMs).toBeGreaterThan(0);
  });

  it('fails with NotReadyError at the deadline, with the last failure as cause', async () => {
    answers = Array.from({ length: 1_000 }, () => 503);
    const error = await waitUntilReady({ host: '127.0.0.1', port, timeoutMs: 200, intervalMs: 10 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotReadyError);
    expect(error).toMatchObject({ code: 'NOT_READY', timeoutMs: 200 });
    expect((error as NotReadyError).cause).toEqual(new Error('HTTP 503'));
  });

  it('keeps polling while nothing listens yet', async () => {
    const error = await waitUntilReady({ host: '127.0.0.1', port: 1, timeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotReadyError);
    expect((error as NotReadyError).attempts).toBeGreaterThan(1);
  });
});
