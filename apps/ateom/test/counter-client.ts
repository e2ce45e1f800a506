import { request } from 'node:http';
import { COUNTER_PORT } from './counter-rootfs';

/**
 * GET with a deadline; the body as text. One connection per request, kept alive by the server and
 * closed by the client once the answer is read, so that no endpoint of the sandbox stays connected (this
 * runsc refuses to checkpoint one) or waits in TIME_WAIT.
 */
export function get(host: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port: COUNTER_PORT, path, agent: false, timeout: 5_000, headers: { connection: 'keep-alive' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          req.destroy();
          if (res.statusCode === 200) resolve(Buffer.concat(chunks).toString('utf8'));
          else reject(new Error(`GET ${path}: HTTP ${String(res.statusCode)}`));
        });
      },
    );
    req.once('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.once('error', reject);
    req.end();
  });
}

export async function counter(host: string): Promise<{ memory: number; file: number }> {
  return JSON.parse(await get(host, '/')) as { memory: number; file: number };
}
