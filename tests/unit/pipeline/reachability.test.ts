import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/ports.js';
import { answersRtsp, hostPortOf, waitUntilAnswersAgain } from '../../../src/pipeline/reachability.js';

/** A loopback TCP server that answers RTSP requests while `answering` is true, else keeps silent. */
async function rtspLikeServer(port = 0): Promise<{ server: Server; port: number; state: { answering: boolean } }> {
  const state = { answering: true };
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', () => {
      if (state.answering) socket.write('RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n');
    });
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  servers.push(server);
  return { server, port: address.port, state };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('reachability', () => {
  it('reads host and port from camera URLs, with RTSP defaulting to 554', () => {
    expect(hostPortOf('rtsp://user:pw@10.0.0.5/Streaming/Channels/101')).toEqual({ host: '10.0.0.5', port: 554 });
    expect(hostPortOf('rtsp://[::1]:8554/x')).toEqual({ host: '::1', port: 8554 });
    expect(hostPortOf('not a url')).toBeUndefined();
  });

  it('answersRtsp: true for a server that answers, false for a silent one or a closed port', async () => {
    const { port, state } = await rtspLikeServer();
    expect(await answersRtsp({ host: '127.0.0.1', port }, 1000)).toBe(true);
    state.answering = false;
    const started = Date.now();
    expect(await answersRtsp({ host: '127.0.0.1', port }, 300)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await answersRtsp({ host: '127.0.0.1', port: await freePort() }, 1000)).toBe(false);
  });

  it('waitUntilAnswersAgain resolves once a silent server answers again', async () => {
    const { port, state } = await rtspLikeServer();
    state.answering = false;
    const ac = new AbortController();
    let resolvedAt = 0;
    const waiting = waitUntilAnswersAgain({ host: '127.0.0.1', port }, ac.signal, { intervalMs: 50, answerTimeoutMs: 200 }).then(
      () => (resolvedAt = Date.now()),
    );
    await new Promise((r) => setTimeout(r, 600));
    expect(resolvedAt).toBe(0);
    const backAt = Date.now();
    state.answering = true;
    await waiting;
    expect(resolvedAt - backAt).toBeLessThan(600);
  });

  it('waitUntilAnswersAgain keeps waiting while the server answers all along, and stops on abort', async () => {
    const { port } = await rtspLikeServer();
    const ac = new AbortController();
    let resolved = false;
    const waiting = waitUntilAnswersAgain({ host: '127.0.0.1', port }, ac.signal, { intervalMs: 50, answerTimeoutMs: 200 }).then(
      () => (resolved = true),
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(resolved).toBe(false);
    ac.abort();
    await waiting;
  });

  it('waitUntilAnswersAgain takes the first answer when the target is already known to have gone silent', async () => {
    const { port } = await rtspLikeServer();
    const ac = new AbortController();
    const started = Date.now();
    await waitUntilAnswersAgain({ host: '127.0.0.1', port }, ac.signal, { intervalMs: 50, answerTimeoutMs: 200, seenSilent: true });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('waitUntilAnswersAgain counts a refused port as silent: resolves when the camera is back', async () => {
    const port = await freePort();
    const ac = new AbortController();
    const waiting = waitUntilAnswersAgain({ host: '127.0.0.1', port }, ac.signal, { intervalMs: 50, answerTimeoutMs: 200 });
    await new Promise((r) => setTimeout(r, 200));
    await rtspLikeServer(port);
    await waiting;
  });
});
