import { httpGet } from './ateom-harness';
import { COUNTER_PORT } from './counter-rootfs';

/**
 * GET on the test counter's port; the body as text. The connection is reset once the answer is read
 * (see `httpGet`), so no sandbox endpoint is left closing when a checkpoint follows.
 */
export function get(host: string, path: string): Promise<string> {
  return httpGet(host, COUNTER_PORT, path);
}

export async function counter(host: string): Promise<{ memory: number; file: number }> {
  return JSON.parse(await get(host, '/')) as { memory: number; file: number };
}
