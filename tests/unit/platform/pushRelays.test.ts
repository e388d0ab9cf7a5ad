import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/log.js';
import type { StreamSnapshot, StreamSupervisor, SupervisorOptions, UpstreamContext } from '../../../src/pipeline/index.js';
import { buildPushArgs, platformUpstream, pushTargetLabel } from '../../../src/platform/index.js';

const stopped: StreamSnapshot = {
  state: 'stopped',
  since: 0,
  lastCause: null,
  lastError: null,
  lastFrameAt: null,
  fps: 0,
  bitrateBps: 0,
  restarts: 0,
  stalls: 0,
  pid: null,
};

interface FakeRelay {
  stream: string;
  bindings: Record<string, unknown>;
  prepare: SupervisorOptions['prepare'];
  calls: string[];
}

function context(pushTargets: string[]) {
  const relays: FakeRelay[] = [];
  const logger = (bindings: Record<string, unknown>): Logger =>
    ({ child: (more: Record<string, unknown>) => logger({ ...bindings, ...more }), bindings }) as unknown as Logger;
  let minted = 0;
  const ctx: UpstreamContext = {
    cameraId: 'cam-1',
    pushTargets,
    sharedPlayUrl: () => `rtmp://127.0.0.1:1935/shared/cam-1?token=t${++minted}`,
    logger: logger({ cameraId: 'cam-1' }),
    supervise: (stream, log, prepare) => {
      const relay: FakeRelay = { stream, bindings: (log as unknown as { bindings: Record<string, unknown> }).bindings, prepare, calls: [] };
      relays.push(relay);
      return {
        start: () => relay.calls.push('start'),
        retryNow: () => relay.calls.push('retryNow'),
        close: () => {
          relay.calls.push('close');
          return Promise.resolve();
        },
        snapshot: () => ({ ...stopped, restarts: relays.indexOf(relay) }),
      } as unknown as StreamSupervisor;
    },
  };
  return { ctx, relays };
}

describe('platform push relays', () => {
  const targets = ['rtmp://platform:1935/live/key-1', 'rtsp://platform:8554/live/key-2'];

  it('supervises one relay per target, named by its secret-free label, relaying the shared tier', async () => {
    const { ctx, relays } = context(targets);
    platformUpstream(ctx);
    expect(relays.map((r) => r.stream)).toEqual(targets.map(pushTargetLabel));
    expect(relays.map((r) => r.bindings.push)).toEqual(targets.map(pushTargetLabel));
    for (const [i, r] of relays.entries()) {
      const { args } = await r.prepare(new AbortController().signal);
      expect(args).toEqual(buildPushArgs(args[args.indexOf('-i') + 1] as string, targets[i] as string));
    }
  });

  it('reads the shared tier with a fresh internal token on every (re)start', async () => {
    const { ctx, relays } = context(targets.slice(0, 1));
    platformUpstream(ctx);
    const relay = relays[0] as FakeRelay;
    const sources = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const { args } = await relay.prepare(new AbortController().signal);
      sources.add(args[args.indexOf('-i') + 1] as string);
    }
    expect(sources.size).toBe(3);
    expect([...sources].every((u) => u.startsWith('rtmp://127.0.0.1:1935/shared/cam-1?token='))).toBe(true);
  });

  it('starts only once the source is live, then retries at once on each recovery', async () => {
    const { ctx, relays } = context(targets);
    const links = platformUpstream(ctx);
    expect(relays.every((r) => r.calls.length === 0)).toBe(true);
    links.sourceLive();
    links.sourceLive();
    await links.close();
    for (const r of relays) expect(r.calls).toEqual(['start', 'retryNow', 'close']);
  });

  it('reports each relay under its target label', () => {
    const { ctx } = context(targets);
    expect(platformUpstream(ctx).snapshot()).toEqual(targets.map((t, i) => ({ target: pushTargetLabel(t), ...stopped, restarts: i })));
  });

  it('has nothing to do for a camera without push targets', async () => {
    const { ctx, relays } = context([]);
    const links = platformUpstream(ctx);
    links.sourceLive();
    expect(links.snapshot()).toEqual([]);
    await links.close();
    expect(relays).toEqual([]);
  });
});
