export interface ConnectionLimits {
  /** Open connections accepted at once. */
  total: number;
  /** Open connections one remote address may hold; loopback peers are exempt. */
  perAddress: number;
}

export type GateRefusal = 'total' | 'per_address';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** Whether a peer address (or node-media-server's "address:port" session ip) is on loopback. */
export function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
}

/**
 * Counts the open connections of one listening port and says whether one more may be
 * accepted. Loopback peers are the gateway's own ffmpegs (a publisher and several
 * readers per camera), so only the total bounds them.
 */
export class ConnectionGate {
  private open = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimits) {}

  /** Takes a slot for `address`, or says which limit refuses it; release() frees a taken slot. */
  admit(address: string | undefined): GateRefusal | null {
    if (this.open >= this.limits.total) return 'total';
    const key = address ?? '';
    const held = this.byAddress.get(key) ?? 0;
    if (!isLoopback(key) && held >= this.limits.perAddress) return 'per_address';
    this.open += 1;
    this.byAddress.set(key, held + 1);
    return null;
  }

  release(address: string | undefined): void {
    const key = address ?? '';
    const held = this.byAddress.get(key) ?? 0;
    if (held === 0) return;
    this.open -= 1;
    if (held === 1) this.byAddress.delete(key);
    else this.byAddress.set(key, held - 1);
  }

  get openConnections(): number {
    return this.open;
  }
}
