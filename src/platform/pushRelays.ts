import type { StreamSupervisor, UpstreamContext, UpstreamLinks, PushSnapshot } from '../pipeline/index.js';
import { buildPushArgs, pushTargetLabel } from './pushArgs.js';

/**
 * RTMP/RTSP push to the sharing platform: one supervised ffmpeg per push target, relaying the
 * camera's shared tier without re-encoding. The relays start once the shared tier first has
 * something to push and retry at once whenever its source recovers, rather than waiting out
 * their backoff. Each reports under the target's secret-free label (logs, metrics, snapshots).
 */
export class PushRelays implements UpstreamLinks {
  private readonly relays = new Map<string, StreamSupervisor>();
  private started = false;

  constructor(ctx: UpstreamContext) {
    for (const target of ctx.pushTargets) {
      const label = pushTargetLabel(target);
      // Built at each (re)start: the internal token in the source URL lasts minutes. It names the
      // target, so the access register records the push as a platform play to it.
      const prepare = () => Promise.resolve({ args: buildPushArgs(ctx.sharedPlayUrl(label), target) });
      this.relays.set(label, ctx.supervise(label, ctx.logger.child({ push: label }), prepare));
    }
  }

  sourceLive(): void {
    if (!this.started) {
      this.started = true;
      for (const relay of this.relays.values()) relay.start();
    } else {
      for (const relay of this.relays.values()) relay.retryNow();
    }
  }

  snapshot(): PushSnapshot[] {
    return [...this.relays.entries()].map(([target, relay]) => ({ target, ...relay.snapshot() }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.relays.values()].map((r) => r.close()));
  }
}
