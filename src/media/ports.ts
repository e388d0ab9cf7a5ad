import { createServer } from 'node:net';
import { GatewayError } from '../errors.js';

/**
 * node-media-server calls process.exit(1) when its port is taken, so every port is
 * tried first and a taken one becomes a clear error instead of a silent exit.
 */
export async function assertPortFree(host: string, port: number, what: string, setting: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new GatewayError('PORT_IN_USE', `The ${what} port ${host}:${port} is not available (${err.code ?? err.message}).`, {
          hint: `Stop the process using it (\`ss -ltnp 'sport = :${port}'\` shows which) or choose another port with ${setting}.`,
        }),
      );
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
