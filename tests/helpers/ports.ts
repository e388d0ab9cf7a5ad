import { createServer, type Server } from 'node:net';

function listenEphemeral(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function portOf(server: Server): number {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('server has no TCP address');
  return addr.port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

/** `n` distinct free ports: all listeners stay open until every port is read, so none repeats. */
export async function freePorts(n: number): Promise<number[]> {
  if (!Number.isInteger(n) || n < 0) throw new Error(`freePorts: n must be a non-negative integer, got ${n}`);
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) servers.push(await listenEphemeral());
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(close));
  }
}
