import { describe, expect, it } from 'vitest';
import { FourEyes, type PendingChanges, type Proposal } from '../../../src/changes/index.js';
import { parseDesensitize } from '../../../src/cli/cameraCommands.js';
import { desensitizeSchema, desensitizeWeakens, type DesensitizeSetting, type Principal } from '../../../src/domain/index.js';

const on = (over: Partial<DesensitizeSetting> = {}): DesensitizeSetting => ({ faces: true, plates: true, ...over });

describe('desensitize setting', () => {
  it('accepts faces, plates, a detection rate and a fail mode, and names what is wrong otherwise', () => {
    expect(desensitizeSchema.parse({ faces: true, plates: false, detectFps: 8, failMode: 'blur' })).toEqual({
      faces: true,
      plates: false,
      detectFps: 8,
      failMode: 'blur',
    });
    const problems = (input: unknown) => desensitizeSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(problems({ faces: false, plates: false })).toEqual([
      ': must hide faces, plates or both; to turn desensitization off send desensitize: null',
    ]);
    expect(problems({ faces: true, plates: true, detectFps: 60 })).toEqual(['detectFps: must be between 1 and 15 per second']);
    expect(problems({ faces: true, plates: true, failMode: 'grey' })).toEqual(['failMode: must be one of dark, blur (got "grey")']);
    expect(problems({ faces: 'yes', plates: true })?.[0]).toMatch(/faces: must be true or false/);
    expect(problems({ faces: true, plates: true, people: true })?.[0]).toMatch(/unknown field/);
  });

  it('weakens when it is turned off, drops a kind, detects less often or fails blurred instead of dark', () => {
    expect(desensitizeWeakens(null, on())).toBe(false);
    expect(desensitizeWeakens(on(), on({ detectFps: 8 }))).toBe(false);
    expect(desensitizeWeakens(on({ faces: true, plates: false }), on())).toBe(false);
    expect(desensitizeWeakens(on({ failMode: 'blur' }), on({ failMode: 'dark' }))).toBe(false);
    expect(desensitizeWeakens(on(), null)).toBe(true);
    expect(desensitizeWeakens(on(), on({ plates: false }))).toBe(true);
    expect(desensitizeWeakens(on(), on({ detectFps: 2 }))).toBe(true);
    expect(desensitizeWeakens(on(), on({ failMode: 'blur' }))).toBe(true);
    expect(desensitizeWeakens(null, null)).toBe(false);
  });

  it('CLI --desensitize reads kinds, rate and fail mode, or off', () => {
    expect(parseDesensitize('faces,plates')).toEqual({ faces: true, plates: true });
    expect(parseDesensitize('faces:8:blur')).toEqual({ faces: true, plates: false, detectFps: 8, failMode: 'blur' });
    expect(parseDesensitize('off')).toBeNull();
    expect(() => parseDesensitize('people')).toThrow(/expected faces, plates, faces,plates or off/);
    expect(() => parseDesensitize('faces:fast')).toThrow(/detections per second or dark\/blur/);
  });
});

describe('four eyes on desensitization', () => {
  const alice: Principal = { kind: 'user', userId: 'u-alice', username: 'alice', roles: ['admin'] };

  function fourEyes(current: DesensitizeSetting | null) {
    const proposals: Proposal[] = [];
    const changes = {
      onApprove: () => undefined,
      propose: (_p: Principal, proposal: Proposal) => {
        proposals.push(proposal);
        return Promise.resolve({ id: 'c1', kind: proposal.kind, summary: proposal.summary });
      },
    } as unknown as PendingChanges;
    const cameras = {
      get: () => Promise.resolve({ id: 'cam-1', masks: [], desensitize: current }),
      update: () => Promise.resolve(undefined),
    };
    const holds = { liftable: () => Promise.reject(new Error('unused')), lift: () => Promise.reject(new Error('unused')) };
    return { eyes: new FourEyes(changes, cameras, holds), proposals };
  }

  it('turning it on or hiding more applies at once', async () => {
    expect(await fourEyes(null).eyes.cameraPatch(alice, 'cam-1', { desensitize: on() })).toBeNull();
    expect(await fourEyes(on({ plates: false })).eyes.cameraPatch(alice, 'cam-1', { desensitize: on(), name: 'x' })).toBeNull();
  });

  it('turning it off waits for a second admin, alone in its change', async () => {
    const { eyes, proposals } = fourEyes(on());
    expect(await eyes.cameraPatch(alice, 'cam-1', { desensitize: null })).toMatchObject({ kind: 'camera.desensitize' });
    expect(proposals[0]).toMatchObject({
      kind: 'camera.desensitize',
      subject: 'cam-1',
      current: on(),
      proposed: null,
      summary: 'camera cam-1: desensitization faces+plates → off',
    });
    await expect(eyes.cameraPatch(alice, 'cam-1', { desensitize: null, name: 'x' })).rejects.toThrow(/cannot carry name as well/);
  });
});
