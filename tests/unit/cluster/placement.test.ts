import { describe, expect, it } from 'vitest';
import { cameraCost, placeCameras, type PlacementNode } from '../../../src/cluster/placement.js';
import { nodeNameOf } from '../../../src/cluster/identity.js';

const cams = (n: number, cost = 1) => Array.from({ length: n }, (_, i) => ({ id: `cam-${String(i).padStart(3, '0')}`, cost }));
const node = (name: string, over: Partial<PlacementNode> = {}): PlacementNode => ({ name, weight: 1, accepts: true, keeps: true, ...over });
const counts = (placed: Map<string, string>) => {
  const out: Record<string, number> = {};
  for (const n of placed.values()) out[n] = (out[n] ?? 0) + 1;
  return out;
};
const moved = (a: Map<string, string>, b: Map<string, string>) => [...a].filter(([id, n]) => b.get(id) !== n).length;

describe('camera placement', () => {
  it('spreads twelve equal cameras 4/4/4 over three nodes, the same on every call', () => {
    const input = { cameras: cams(12), nodes: [node('a'), node('b'), node('c')], holders: new Map<string, string>() };
    const placed = placeCameras(input);
    expect(counts(placed)).toEqual({ a: 4, b: 4, c: 4 });
    expect(placeCameras({ ...input, nodes: [...input.nodes].reverse() })).toEqual(placed);
  });

  it('weights by cost: masked cameras count three times a copy-mode one', () => {
    expect(cameraCost({ masks: [] })).toBe(1);
    expect(cameraCost({ masks: [{}] })).toBe(3);
    const cameras = [...cams(6), ...cams(2, 3).map((c) => ({ ...c, id: `masked-${c.id}` }))];
    const placed = placeCameras({ cameras, nodes: [node('a'), node('b')], holders: new Map() });
    const load = (n: string) => cameras.filter((c) => placed.get(c.id) === n).reduce((s, c) => s + c.cost, 0);
    expect(load('a')).toBe(6);
    expect(load('b')).toBe(6);
  });

  it('honours node weights', () => {
    const placed = placeCameras({ cameras: cams(30), nodes: [node('big', { weight: 2 }), node('small')], holders: new Map() });
    expect(counts(placed)).toEqual({ big: 20, small: 10 });
  });

  it("moves only the lost node's cameras when a node leaves", () => {
    const three = placeCameras({ cameras: cams(60), nodes: [node('a'), node('b'), node('c')], holders: new Map() });
    const holders = new Map([...three].filter(([, n]) => n !== 'c'));
    const two = placeCameras({ cameras: cams(60), nodes: [node('a'), node('b')], holders });
    expect(moved(three, two)).toBe(20);
    for (const [id, n] of holders) expect(two.get(id)).toBe(n);
    expect(counts(two)).toEqual({ a: 30, b: 30 });
  });

  it('a joining node takes about a third, taken from the others; nothing else moves', () => {
    const two = placeCameras({ cameras: cams(60), nodes: [node('a'), node('b')], holders: new Map() });
    const three = placeCameras({ cameras: cams(60), nodes: [node('a'), node('b'), node('c')], holders: two });
    expect(counts(three)).toEqual({ a: 20, b: 20, c: 20 });
    expect(moved(two, three)).toBe(20);
  });

  it('a node keeps what it holds while near its share (stickiness)', () => {
    const holders = new Map(cams(12).map((c, i) => [c.id, ['a', 'b', 'c'][i % 3] as string]));
    const placed = placeCameras({ cameras: cams(12), nodes: [node('a'), node('b'), node('c')], holders });
    expect(placed).toEqual(holders);
  });

  it('a draining node keeps nothing; a cordoned one keeps its own and takes no new camera', () => {
    const holders = new Map(cams(12).map((c, i) => [c.id, ['a', 'b', 'c'][i % 3] as string]));
    const drained = placeCameras({
      cameras: cams(12),
      nodes: [node('a'), node('b'), node('c', { accepts: false, keeps: false })],
      holders,
    });
    expect(counts(drained)).toEqual({ a: 6, b: 6 });
    expect(moved(holders, drained)).toBe(4);
    const cordoned = placeCameras({ cameras: cams(15), nodes: [node('a'), node('b'), node('c', { accepts: false })], holders });
    expect(counts(cordoned).c).toBe(4);
    expect(['a', 'b']).toContain(cordoned.get('cam-014'));
  });

  it('is stable once applied, also when the cameras do not divide evenly (no camera flaps)', () => {
    for (const n of [13, 14, 31]) {
      const input = { cameras: cams(n), nodes: [node('a'), node('b'), node('c')], holders: new Map<string, string>() };
      const first = placeCameras(input);
      const second = placeCameras({ ...input, holders: first });
      expect(second).toEqual(first);
      const c = Object.values(counts(first));
      expect(Math.max(...c) - Math.min(...c)).toBeLessThanOrEqual(1);
    }
  });

  it('places nothing when no node accepts', () => {
    expect(placeCameras({ cameras: cams(3), nodes: [node('a', { accepts: false, keeps: false })], holders: new Map() }).size).toBe(0);
  });
});

describe('node name', () => {
  it('is the configured name, else the host name made valid', () => {
    expect(nodeNameOf('gw-1')).toBe('gw-1');
    expect(nodeNameOf(undefined, 'Edge_Box.example.COM')).toBe('edge-box-example-com');
    expect(nodeNameOf(undefined, '___')).toBe('node');
  });
});
