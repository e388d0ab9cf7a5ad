import { describe, expect, it } from 'vitest';
import { ConnectionGate } from '../../../src/media/connectionGate.js';

describe('ConnectionGate', () => {
  it('refuses an address over its own limit while others still get in', () => {
    const gate = new ConnectionGate({ total: 10, perAddress: 2 });
    expect(gate.admit('192.0.2.7')).toBeNull();
    expect(gate.admit('192.0.2.7')).toBeNull();
    expect(gate.admit('192.0.2.7')).toBe('per_address');
    expect(gate.admit('192.0.2.8')).toBeNull();
    expect(gate.openConnections).toBe(3);
  });

  it('refuses everyone over the total, loopback included, until a slot is released', () => {
    const gate = new ConnectionGate({ total: 3, perAddress: 1 });
    expect(gate.admit('127.0.0.1')).toBeNull();
    expect(gate.admit('127.0.0.1')).toBeNull(); // loopback (the gateway's own ffmpegs) has no per-address limit
    expect(gate.admit('::ffff:192.0.2.7')).toBeNull();
    expect(gate.admit('127.0.0.1')).toBe('total');
    expect(gate.admit('192.0.2.9')).toBe('total');
    gate.release('127.0.0.1');
    expect(gate.admit('192.0.2.9')).toBeNull();
  });

  it('ignores a release of an address that holds nothing', () => {
    const gate = new ConnectionGate({ total: 1, perAddress: 1 });
    gate.release('192.0.2.7');
    expect(gate.openConnections).toBe(0);
    expect(gate.admit('192.0.2.7')).toBeNull();
    expect(gate.admit('192.0.2.8')).toBe('total');
  });
});
