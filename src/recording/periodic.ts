import type { Logger } from '../log.js';

/**
 * Runs an async task now and then every `intervalMs`, never two at once; a failure is
 * logged and the next tick runs as planned. `close()` waits for a run in progress.
 */
export class PeriodicTask {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<unknown> | null = null;

  constructor(
    private readonly task: () => Promise<unknown>,
    private readonly logger: Logger,
    private readonly failure: string,
  ) {}

  start(intervalMs: number): void {
    const tick = () => {
      if (this.#running) return;
      this.#running = this.task()
        .catch((err: unknown) => this.logger.error({ err }, this.failure))
        .finally(() => (this.#running = null));
    };
    tick();
    this.#timer = setInterval(tick, intervalMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#running;
  }
}
