import { describe, expect, it } from 'vitest';
import type { PtzAction, PtzCapability } from '../../../src/domain/index.js';
import { ptzRefusal } from '../../../src/onvif/ptzControl.js';

const dome: PtzCapability = { kind: 'dome', profileToken: 'p', maxPresets: 8, home: true };
const zoom: PtzCapability = { kind: 'zoom', profileToken: 'p', maxPresets: 0, home: false };
const none: PtzCapability = { kind: 'none', profileToken: null, maxPresets: 0, home: false };
const pan: PtzAction = { kind: 'move', x: -0.5, y: 0, zoom: 0 };
const tele: PtzAction = { kind: 'move', x: 0, y: 0, zoom: 1 };
const goto = (index: number): PtzAction => ({ kind: 'preset', action: 'goto', index });

describe('ONVIF PTZ refusals from the stored capability', () => {
  it.each<[string, PtzCapability | null, PtzAction, RegExp | null]>([
    ['a dome pans', dome, pan, null],
    ['a dome goes to a preset within its count', dome, goto(8), null],
    ['a dome goes home', dome, { kind: 'home' }, null],
    ['a zoom camera zooms and stops', zoom, tele, null],
    ['a zoom camera stops', zoom, { kind: 'stop' }, null],
    ['a zoom camera does not pan', zoom, pan, /can only zoom/],
    ['a zoom camera has no presets', zoom, goto(1), /has 0 presets/],
    ['a dome refuses a preset past its count', dome, goto(9), /has 8 presets/],
    ['a camera without home', zoom, { kind: 'home' }, /no home position/],
    ['a PTZ service without a usable node', none, { kind: 'stop' }, /no ONVIF PTZ/],
    ['a camera without ONVIF PTZ', null, tele, /no ONVIF PTZ/],
  ])('%s', (_name, cap, action, refusal) => {
    const got = ptzRefusal(cap, action);
    if (refusal === null) expect(got).toBeNull();
    else expect(got).toMatch(refusal);
  });
});
