import { connect, createServer, type NetConnectOpts } from 'node:net';

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port assigned'));
        else resolvePort(address.port);
      });
    });
  });
}

/** Several distinct free ports. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}

/** Whether something accepts a connection at `target` right now (the connection is closed at once). */
function accepts(target: NetConnectOpts): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(target);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Whether a server listens on the unix socket at `path`. */
export function unixSocketAccepts(path: string): Promise<boolean> {
  return accepts({ path });
}

/** Whether a server listens on `host:port`. */
export function tcpAccepts(host: string, port: number): Promise<boolean> {
  return accepts({ host, port });
}
