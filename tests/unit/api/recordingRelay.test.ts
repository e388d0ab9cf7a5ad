import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SegmentRelay } from '../../../src/api/index.js';
import { signPlayToken, verifyPlayToken } from '../../../src/media/index.js';

/** Relay tokens between nodes: one file of one camera, never a viewer's token, and no viewer's token is one. */
describe('SegmentRelay tokens', () => {
  const key = randomBytes(32);
  const relay = new SegmentRelay(key, { self: 'gw-1', nodes: async () => [] });
  const file = { cameraId: 'cam-1', tier: 'recording', file: 'segment:7' };

  it('opens exactly the one file it names', () => {
    const token = relay.token(file);
    expect(relay.isRelay(token, file)).toBe(true);
    expect(relay.isRelay(token, { ...file, file: 'segment:8' })).toBe(false);
    expect(relay.isRelay(token, { ...file, cameraId: 'cam-2' })).toBe(false);
    expect(relay.isRelay(token, { ...file, tier: 'export' })).toBe(false);
    expect(new SegmentRelay(randomBytes(32), undefined).isRelay(token, file)).toBe(false);
  });

  it("is not a viewer's token, and a viewer's token is not a relay token", () => {
    const now = Math.floor(Date.now() / 1000);
    expect(verifyPlayToken(relay.token(file), { cameraId: 'cam-1', tier: 'recording', purpose: 'view' }, key, now)).toMatchObject({
      ok: false,
    });
    const binding = { userId: 'u1', requestId: 'r1', range: { fromMs: 0, toMs: 1 } };
    const viewer = signPlayToken({ cameraId: 'cam-1', tier: 'recording', expiresAt: now + 60, purpose: 'view', binding }, key);
    expect(relay.isRelay(viewer, file)).toBe(false);
    const expired = signPlayToken(
      { cameraId: 'cam-1', tier: 'recording', expiresAt: now - 1, purpose: 'internal', reader: 'segment:7' },
      key,
    );
    expect(relay.isRelay(expired, file)).toBe(false);
  });

  it('places a file named for this node, or for none, here; without a cluster everything is here', async () => {
    expect(await relay.place({ node: 'gw-1' })).toEqual({ at: 'here' });
    expect(await relay.place({})).toEqual({ at: 'here' });
    expect(await relay.place({ node: 'gw-2' })).toMatchObject({ at: 'unreachable', node: 'gw-2' });
    expect(await new SegmentRelay(key, undefined).place({ node: 'gw-2' })).toEqual({ at: 'here' });
  });
});
