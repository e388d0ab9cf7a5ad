import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { StreamSupervisor, type StateChange } from '../../../src/pipeline/supervisor.js';

/**
 * The state machine is driven here by a stand-in executable that speaks ffmpeg's
 * `-progress` protocol on stdout, so each scenario (advancing, frozen, dying) is exact.
 * Real ffmpeg and real cameras are exercised by the integration tests.
 */
const FAKE_FFMPEG = `#!/usr/bin/env node
const mode = process.argv[2];
let frame = 0, blocks = 0;
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {
  blocks++;
  if (mode === 'advance' || (mode === 'freeze-after-5' && blocks <= 5)) frame += 5;
  if (mode === 'die-after-5' && blocks > 5) process.exit(0);
  if (mode === 'silent') return;
  process.stdout.write('frame=' + frame + '\\nfps=25\\nbitrate=100.0kbits/s\\nprogress=continue\\n');
}, 100);
`;

const dir = mkdtempSync(join(tmpdir(), 'psvgw-sup-'));
const fake = join(dir, 'fake-ffmpeg');
writeFileSync(fake, FAKE_FFMPEG);
chmodSync(fake, 0o755);

const supervisors: StreamSupervisor[] = [];
afterEach(async () => {
  await Promise.all(supervisors.splice(0).map((s) => s.close()));
});

function supervise(mode: string, overrides: Partial<ConstructorParameters<typeof StreamSupervisor>[0]> = {}) {
  const changes: StateChange[] = [];
  const sup = new StreamSupervisor({
    role: 'test',
    ffmpegPath: fake,
    logger: createLogger({ level: 'silent' }),
    prepare: () => Promise.resolve({ args: [mode] }),
    stallMs: 600,
    startTimeoutMs: 1500,
    backoff: { initialMs: 200, factor: 2, maxMs: 1000, jitter: 0 },
    maxRestartsPerMinute: 100,
    ...overrides,
  });
  sup.on('state', (c) => changes.push(c));
  supervisors.push(sup);
  sup.start();
  return { sup, changes };
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  // Monotonic: one test moves the wall clock.
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('StreamSupervisor', () => {
  it('goes live when the frame counter advances, and measures fps from it', async () => {
    const { sup } = supervise('advance');
    await until(() => sup.snapshot().state === 'live', 2000);
    // the stand-in advances 5 frames every 100 ms: 50 fps, whatever its fps= field says
    await new Promise((r) => setTimeout(r, 1000));
    expect(sup.snapshot().fps).toBeGreaterThan(35);
    expect(sup.snapshot().fps).toBeLessThan(65);
    expect(sup.snapshot().pid).toBeGreaterThan(0);
  });

  it('finds a frozen stream stalled from the frame counter, kills it and restarts', async () => {
    const { sup, changes } = supervise('freeze-after-5');
    await until(() => changes.some((c) => c.to === 'stalled'), 3000);
    const live = changes.find((c) => c.to === 'live');
    const stalled = changes.find((c) => c.to === 'stalled');
    expect(stalled?.cause).toBe('stalled');
    // the last advance is ~0.5 s after going live; stallMs is 600 ms; watchdog ticks every 100 ms
    expect((stalled?.at ?? 0) - (live?.at ?? 0)).toBeLessThan(500 + 600 + 400);
    await until(() => sup.snapshot().restarts >= 1 && sup.snapshot().state === 'live', 3000);
    expect(sup.snapshot().stalls).toBeGreaterThanOrEqual(1);
  });

  it('does not find a live stream stalled when the wall clock jumps forward (durations are monotonic)', async () => {
    const { sup, changes } = supervise('advance');
    await until(() => sup.snapshot().state === 'live', 2000);
    const realNow = Date.now.bind(Date);
    const jump = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
    try {
      // Many watchdog ticks (100 ms) and more than two stall windows (600 ms) on the jumped clock.
      await new Promise((r) => setTimeout(r, 1500));
      expect(changes.map((c) => c.to)).not.toContain('stalled');
      expect(sup.snapshot()).toMatchObject({ state: 'live', stalls: 0, restarts: 0 });
    } finally {
      jump.mockRestore();
    }
  });

  it('retries a stalled stream as soon as its camera answers RTSP, even past the restart rate cap (a thawed camera)', async () => {
    // The camera answers all along (it was thawed before the first poll): the stall itself says it was silent.
    const camera: Server = createServer((socket) => socket.on('data', () => socket.write('RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n')));
    await new Promise<void>((resolve) => camera.listen(0, '127.0.0.1', resolve));
    try {
      const address = camera.address() as { port: number };
      const { sup, changes } = supervise('freeze-after-5', {
        maxRestartsPerMinute: 1,
        reachability: { host: '127.0.0.1', port: address.port },
      });
      await until(() => changes.filter((c) => c.to === 'stalled').length >= 2, 6000);
      const secondStall = changes.filter((c) => c.to === 'stalled')[1]?.at ?? 0;
      // The rate cap alone would hold this restart for most of a minute.
      await until(() => sup.snapshot().restarts >= 2, 3000);
      expect(Date.now() - secondStall).toBeLessThan(3000);
    } finally {
      await new Promise((r) => camera.close(r));
    }
  }, 15_000);

  it('treats a clean exit of a live input as a failure (ffmpeg exits 0 when a camera dies)', async () => {
    const { sup, changes } = supervise('die-after-5');
    await until(() => changes.some((c) => c.to === 'backoff'), 3000);
    expect(changes.find((c) => c.to === 'backoff')?.cause).toBe('exited');
    await until(() => sup.snapshot().restarts >= 1, 2000);
  });

  it('fails a start that never produces a frame within the start timeout', async () => {
    const { changes } = supervise('silent', { startTimeoutMs: 400 });
    await until(() => changes.some((c) => c.to === 'backoff'), 2000);
    expect(changes.find((c) => c.to === 'backoff')?.cause).toBe('start_timeout');
  });

  it('passes a preparation error through as the cause, and close() stops everything', async () => {
    const { sup, changes } = supervise('advance', {
      prepare: () => Promise.reject(Object.assign(new Error('401'), { name: 'GatewayError' })),
    });
    await until(() => changes.some((c) => c.to === 'backoff'), 2000);
    expect(sup.snapshot().lastError).toContain('401');
    await sup.close();
    expect(sup.snapshot().state).toBe('stopped');
    expect(sup.snapshot().pid).toBeNull();
  });
});
