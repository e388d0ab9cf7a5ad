/**
 * The approved access requests and their windows, kept in memory: the media server's play
 * hook is synchronous and asks on every play and every second of every governed session.
 * Refreshed on every request transition and once a second (which also catches a revocation
 * made by another process on the same store); expiry is checked against the clock at each
 * question, so a window that ends is seen at once.
 */
import type { Role } from '../domain/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';

const REFRESH_MS = 1000;

export class ActiveRequests {
  #windows = new Map<string, { fromMs: number; untilMs: number | null }>();
  /** Per user: enabled and holding a role the profile exempts from approval (their exempt sessions live while true). */
  #exempt = new Map<string, boolean>();
  #timer: NodeJS.Timeout | null = null;
  #refreshing: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    /** The profile's viewWithoutApproval roles. */
    private readonly exemptRoles: readonly Role[] = [],
  ) {}

  /** Loads the approved requests; then refreshes them every second until `close`. */
  async start(): Promise<this> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.#timer.unref();
    return this;
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#refreshing;
  }

  /** Approved and inside its window now. */
  readonly isActive = (requestId: string): boolean => {
    const w = this.#windows.get(requestId);
    const now = this.now();
    return w !== undefined && w.fromMs <= now && (w.untilMs === null || now < w.untilMs);
  };

  /**
   * Enabled and still holding an exempt role, as of the last refresh (at most a second old).
   * A user created since then is trusted: the API minted the token on their current roles.
   */
  readonly isExemptViewer = (userId: string): boolean => this.#exempt.get(userId) ?? true;

  /** Re-reads the approved requests after any read in flight (a failed read keeps the last set and is logged). */
  refresh(): Promise<void> {
    const run = (this.#refreshing ?? Promise.resolve()).then(() => this.#load());
    this.#refreshing = run;
    return run;
  }

  async #load(): Promise<void> {
    try {
      const approved = await this.store.accessRequests.list({ state: 'approved' });
      const next = new Map<string, { fromMs: number; untilMs: number | null }>();
      for (const r of approved) {
        if (r.validFrom === null) continue;
        next.set(r.id, { fromMs: Date.parse(r.validFrom), untilMs: r.validUntil === null ? null : Date.parse(r.validUntil) });
      }
      this.#windows = next;
      // Roles and the disabled flag change outside any request transition: the periodic refresh catches them.
      if (this.exemptRoles.length > 0) {
        const users = await this.store.users.list();
        this.#exempt = new Map(users.map((u) => [u.id, !u.disabled && u.roles.some((r) => this.exemptRoles.includes(r))]));
      }
    } catch (err) {
      this.logger.warn({ err }, 'could not refresh the approved access requests; keeping the last known set');
    }
  }
}
