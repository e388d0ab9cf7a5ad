import { afterEach, describe, expect, it } from 'vitest';
import { nmsInternals, type NmsBroadcast, type NmsSubscriber } from '../../../src/media/nmsInternals.js';
import { TierMirrors } from '../../../src/media/tierMirror.js';

// The registry is node-media-server's own (real) broadcast map; these stand-in broadcasts
// carry only the fields the mirror touches.
function broadcast(streamPath: string): NmsBroadcast {
  return { streamPath, flvHeader: Buffer.alloc(0), flvMetaData: null, subscribers: new Map(), _lastDts: {} };
}

const registry = nmsInternals().broadcasts;
afterEach(() => registry.clear());

describe('TierMirrors', () => {
  it('registers the source broadcast under the mirrored path once it is published', () => {
    const mirrors = new TierMirrors();
    mirrors.mirror('/raw/1', '/shared/1');
    expect(registry.get('/shared/1')).toBeUndefined();
    const raw = broadcast('/raw/1');
    registry.set('/raw/1', raw);
    mirrors.published('/raw/1');
    expect(registry.get('/shared/1')).toBe(raw);
  });

  it('moves viewers who were waiting on the mirrored path to the source', () => {
    const waiting = broadcast('/shared/2');
    const viewer: NmsSubscriber = { broadcast: waiting };
    waiting.subscribers.set('v1', viewer);
    registry.set('/shared/2', waiting);
    const raw = broadcast('/raw/2');
    registry.set('/raw/2', raw);
    new TierMirrors().mirror('/raw/2', '/shared/2');
    expect(registry.get('/shared/2')).toBe(raw);
    expect(raw.subscribers.get('v1')).toBe(viewer);
    expect(viewer.broadcast).toBe(raw);
    expect(waiting.subscribers.size).toBe(0);
  });

  it('follows a source that was replaced after an outage', () => {
    const mirrors = new TierMirrors();
    const first = broadcast('/raw/3');
    registry.set('/raw/3', first);
    mirrors.mirror('/raw/3', '/shared/3');
    const second = broadcast('/raw/3');
    registry.set('/raw/3', second);
    mirrors.published('/raw/3');
    expect(registry.get('/shared/3')).toBe(second);
  });

  it('unmirror removes the alias but never a broadcast of the path itself', () => {
    const mirrors = new TierMirrors();
    registry.set('/raw/4', broadcast('/raw/4'));
    mirrors.mirror('/raw/4', '/shared/4');
    mirrors.unmirror('/shared/4');
    expect(registry.has('/shared/4')).toBe(false);
    const own = broadcast('/shared/5');
    registry.set('/shared/5', own);
    mirrors.unmirror('/shared/5');
    expect(registry.get('/shared/5')).toBe(own);
  });

  it('unmirror disconnects the viewers who came through the mirror, and only them', () => {
    const mirrors = new TierMirrors();
    const raw = broadcast('/raw/6');
    registry.set('/raw/6', raw);
    mirrors.mirror('/raw/6', '/shared/6');
    const closed: string[] = [];
    const viewer = (id: string, streamPath: string): NmsSubscriber => ({ broadcast: raw, streamPath, close: () => closed.push(id) });
    raw.subscribers.set('s1', viewer('s1', '/shared/6'));
    raw.subscribers.set('r1', viewer('r1', '/raw/6'));
    raw.subscribers.set('s2', viewer('s2', '/shared/6'));
    mirrors.unmirror('/shared/6');
    expect(closed.sort()).toEqual(['s1', 's2']);
    expect([...raw.subscribers.keys()]).toEqual(['r1']);
    expect(registry.has('/shared/6')).toBe(false);
    mirrors.unmirror('/shared/6');
    expect(closed).toHaveLength(2);
  });
});
