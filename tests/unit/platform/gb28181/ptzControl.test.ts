import { describe, expect, it } from 'vitest';
import { decodePtzCmd, encodePtzCmd, type PtzCommand } from '../../../../src/platform/gb28181/manscdp/ptz.js';
import { ptzAction } from '../../../../src/platform/gb28181/ptzControl.js';

const move = (over: Partial<Extract<PtzCommand, { kind: 'move' }>>): PtzCommand => ({
  kind: 'move',
  pan: 0,
  tilt: 0,
  zoom: 0,
  panSpeed: 0,
  tiltSpeed: 0,
  zoomSpeed: 0,
  ...over,
});
// Through the wire form, as a platform sends it.
const actionOf = (c: PtzCommand) => ptzAction(decodePtzCmd(encodePtzCmd(c)).command);

describe('PTZCmd to ONVIF', () => {
  it('turns directions into velocity signs: left is -x, right +x, up +y, down -y, tele +zoom, wide -zoom', () => {
    expect(actionOf(move({ pan: -1, panSpeed: 255 }))).toEqual({ kind: 'move', x: -1, y: 0, zoom: 0 });
    expect(actionOf(move({ pan: 1, panSpeed: 255 }))).toEqual({ kind: 'move', x: 1, y: 0, zoom: 0 });
    expect(actionOf(move({ tilt: 1, tiltSpeed: 255 }))).toEqual({ kind: 'move', x: 0, y: 1, zoom: 0 });
    expect(actionOf(move({ tilt: -1, tiltSpeed: 255 }))).toEqual({ kind: 'move', x: 0, y: -1, zoom: 0 });
    expect(actionOf(move({ zoom: 1, zoomSpeed: 15 }))).toEqual({ kind: 'move', x: 0, y: 0, zoom: 1 });
    expect(actionOf(move({ zoom: -1, zoomSpeed: 15 }))).toEqual({ kind: 'move', x: 0, y: 0, zoom: -1 });
  });

  it('scales the speed bytes (0–255 pan/tilt, 0–15 zoom) to 0–1, with a direction at speed 0 still moving slowly', () => {
    expect(actionOf(move({ pan: -1, tilt: 1, panSpeed: 128, tiltSpeed: 51, zoom: 1, zoomSpeed: 3 }))).toEqual({
      kind: 'move',
      x: -0.502,
      y: 0.2,
      zoom: 0.2,
    });
    // Bytes for an axis that is not moving do not leak into its velocity.
    expect(actionOf(move({ pan: 1, panSpeed: 0, tiltSpeed: 200, zoomSpeed: 9 }))).toEqual({ kind: 'move', x: 0.004, y: 0, zoom: 0 });
  });

  it('maps the all-zero command to Stop and the preset instructions to preset actions', () => {
    expect(ptzAction(decodePtzCmd('A50F0000000000B4').command)).toEqual({ kind: 'stop' });
    expect(actionOf({ kind: 'preset', action: 'goto', index: 3 })).toEqual({ kind: 'preset', action: 'goto', index: 3 });
    expect(actionOf({ kind: 'preset', action: 'set', index: 255 })).toEqual({ kind: 'preset', action: 'set', index: 255 });
    expect(actionOf({ kind: 'preset', action: 'delete', index: 1 })).toEqual({ kind: 'preset', action: 'delete', index: 1 });
  });

  it('has no ONVIF action for focus, iris, cruise, scan or aux instructions, nor for preset 0', () => {
    expect(actionOf({ kind: 'other', instruction: 0x41, data1: 1, data2: 0, data3: 0 })).toBeNull();
    expect(actionOf({ kind: 'other', instruction: 0x84, data1: 1, data2: 2, data3: 0 })).toBeNull();
    expect(actionOf({ kind: 'preset', action: 'goto', index: 0 })).toBeNull();
  });
});
