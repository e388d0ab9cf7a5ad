/**
 * Shared kernel, free of dependencies like log.ts and errors.ts: how long-lived
 * components are stopped.
 */

/** Anything with a close that may be called more than once. */
export interface Closable {
  close(): Promise<void> | void;
}

/** Wraps a close so that every call after the first returns the first call's promise. */
export function closeOnce(close: () => Promise<void> | void): () => Promise<void> {
  let closing: Promise<void> | null = null;
  return () => (closing ??= Promise.resolve().then(close));
}

/**
 * The components of a start, closed in reverse order of their start; an error closing
 * one is reported and the others still close. close() is idempotent.
 */
export class CloseStack {
  readonly #stack: Closable[] = [];
  readonly #close: () => Promise<void>;

  constructor(onError: (err: unknown) => void) {
    this.#close = closeOnce(async () => {
      for (let c = this.#stack.pop(); c !== undefined; c = this.#stack.pop()) {
        try {
          await c.close();
        } catch (err) {
          onError(err);
        }
      }
    });
  }

  /** Registers a started component and hands it back. */
  push<T extends Closable>(component: T): T {
    this.#stack.push(component);
    return component;
  }

  close(): Promise<void> {
    return this.#close();
  }
}

/** Starts a built component; when the start fails, closes what it began and rethrows. */
export async function startOrClose<T extends Closable & { start(): Promise<unknown> }>(component: T): Promise<T> {
  try {
    await component.start();
  } catch (err) {
    await component.close();
    throw err;
  }
  return component;
}
