/** What /readyz waits for: the store open, the media server listening, the first reconciliation done. */
export type ReadinessCondition = 'store' | 'media' | 'reconciled';

export type ReadinessState = 'starting' | 'ready' | 'stopping';

const ALL: readonly ReadinessCondition[] = ['store', 'media', 'reconciled'];

/**
 * The gateway's readiness: ready once every condition is met, and no longer from the
 * moment its close begins (for good: a closing gateway never becomes ready again).
 */
export class Readiness {
  readonly #met = new Set<ReadinessCondition>();
  #stopping = false;

  met(condition: ReadinessCondition): void {
    this.#met.add(condition);
  }

  /** A condition met before no longer holds (the store lost): not ready until the gateway restarts. */
  lost(condition: ReadinessCondition): void {
    this.#met.delete(condition);
  }

  /** The close has begun. */
  stopping(): void {
    this.#stopping = true;
  }

  state(): ReadinessState {
    if (this.#stopping) return 'stopping';
    return ALL.every((c) => this.#met.has(c)) ? 'ready' : 'starting';
  }

  isReady(): boolean {
    return this.state() === 'ready';
  }
}
