/** Where a failing listener is reported: any logger with an `error(obj, msg)` (pino's Logger fits). */
export interface ListenerErrorLog {
  error(obj: object, msg: string): void;
}

type Listener<Args extends unknown[]> = (...args: Args) => unknown;

/**
 * Shared kernel, free of dependencies like log.ts and errors.ts.
 *
 * Typed events whose listeners cannot hurt the emitter: a listener that throws, or
 * returns a promise that rejects, is logged and the remaining listeners still run.
 */
export class SafeEmitter<Events extends Record<string, unknown[]>> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never[]>>>();

  constructor(private readonly logger: ListenerErrorLog) {}

  /** Adds a listener; the returned function removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never[]>);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never[]>);
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  removeAllListeners(): void {
    this.#listeners.clear();
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        const result = (listener as Listener<Events[K]>)(...args);
        if (isThenable(result)) result.then(undefined, (err: unknown) => this.#report(event, err));
      } catch (err) {
        this.#report(event, err);
      }
    }
  }

  #report(event: keyof Events, err: unknown): void {
    this.logger.error({ event: String(event), err }, 'event listener failed');
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
