/**
 * The alternative ingest, run as its own process so its CPU and memory can be read:
 * a standalone node-media-server 4.4 whose relay pulls each camera over RTSP itself
 * (no ffmpeg) and serves it as HTTP-FLV / WS-FLV.
 *
 *   node dist/bench/nmsRelay.js --http-port P --rtmp-port Q --store DIR [--reconnect-ms N]
 *
 * stdin, one command a line:   add <streamPath> <rtspUrl>   |   watch on   |   watch off
 * stdout, one event a line:    READY | ADDED <streamPath> | FLOW <streamPath> <epochMs> | DARK <streamPath> <epochMs>
 *
 * FLOW/DARK (only while watching) report RTP bytes starting / stopping to arrive at a task,
 * the relay's own notion of "receiving the camera".
 */
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

interface RelaySession {
  inBytes: number;
}
interface RelayServer {
  addTask(config: { url: string; streamPath: string; mode: 'pull'; reconnectInterval?: number }): RelaySession | undefined;
}
interface Nms {
  relayServer: RelayServer;
  run(): Promise<void>;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : fallback;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

const WATCH_PERIOD_MS = 20;
const DARK_AFTER_MS = 500;

async function main(): Promise<void> {
  const httpPort = Number(arg('http-port'));
  const rtmpPort = Number(arg('rtmp-port'));
  const reconnectMs = Number(arg('reconnect-ms', '500'));
  // Its log lines go nowhere but errors, as in the gateway (which keeps them at debug level).
  const nmsLogger = require('node-media-server/src/core/logger.js') as { log: (m: string, level?: string) => void };
  nmsLogger.log = (message: string, level = 'info') => {
    if (level === 'error' || level === 'warn') process.stderr.write(`[nms ${level}] ${message}\n`);
  };
  const NodeMediaServer = require('node-media-server') as new (config: object) => Nms;
  const nms = new NodeMediaServer({
    bind: '127.0.0.1',
    rtmp: { port: rtmpPort },
    http: { port: httpPort },
    webadmin: { enable: false },
    store: { path: arg('store') },
    record: { auto: false },
  });
  await nms.run();

  const sessions = new Map<string, RelaySession>();
  const watch = new Map<string, { bytes: number; changedAt: number; flowing: boolean }>();
  let timer: NodeJS.Timeout | null = null;
  const now = () => performance.timeOrigin + performance.now();
  const tick = () => {
    const t = now();
    for (const [path, session] of sessions) {
      const w = watch.get(path) ?? { bytes: session.inBytes, changedAt: 0, flowing: false };
      if (session.inBytes !== w.bytes) {
        w.bytes = session.inBytes;
        w.changedAt = t;
        if (!w.flowing) process.stdout.write(`FLOW ${path} ${t.toFixed(1)}\n`);
        w.flowing = true;
      } else if (w.flowing && t - w.changedAt > DARK_AFTER_MS) {
        w.flowing = false;
        process.stdout.write(`DARK ${path} ${t.toFixed(1)}\n`);
      }
      watch.set(path, w);
    }
  };

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [cmd, a, b] = line.trim().split(/\s+/);
    if (cmd === 'add' && a && b) {
      const session = nms.relayServer.addTask({ url: b, streamPath: a, mode: 'pull', reconnectInterval: reconnectMs });
      if (session) sessions.set(a, session);
      process.stdout.write(`ADDED ${a}\n`);
    } else if (cmd === 'watch' && a === 'on' && timer === null) {
      watch.clear();
      timer = setInterval(tick, WATCH_PERIOD_MS);
    } else if (cmd === 'watch' && a === 'off' && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  });
  // The benchmark going away (stdin closed) ends the relay too.
  lines.on('close', () => void shutdown());
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    if (timer) clearInterval(timer);
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    await nms.stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.stdout.write('READY\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`nmsRelay failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
