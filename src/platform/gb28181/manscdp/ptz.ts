/**
 * The PTZCmd field of a DeviceControl (GB/T 28181-2016 Annex A.3): 8 bytes as 16 hex
 * digits. Byte 1 is A5h; byte 2 holds the version (high nibble) and a check nibble; byte 3
 * the address' low 8 bits; byte 4 the instruction; bytes 5–6 data 1–2; byte 7 data 3
 * (high nibble) and the address' high nibble; byte 8 the sum of bytes 1–7 modulo 256.
 */

export type PtzCommand =
  | {
      kind: 'move';
      /** -1 left, 1 right, 0 none. */
      pan: -1 | 0 | 1;
      /** -1 down, 1 up, 0 none. */
      tilt: -1 | 0 | 1;
      /** -1 zoom out (wide), 1 zoom in (tele), 0 none. */
      zoom: -1 | 0 | 1;
      /** 0–255, 0–255 and 0–15 as the standard gives them. */
      panSpeed: number;
      tiltSpeed: number;
      zoomSpeed: number;
    }
  | { kind: 'stop' }
  | { kind: 'preset'; action: 'set' | 'goto' | 'delete'; index: number }
  /** Focus/iris (40h–4Fh), cruise, scan and aux commands: recognised as valid, not interpreted. */
  | { kind: 'other'; instruction: number; data1: number; data2: number; data3: number };

export interface DecodedPtzCmd {
  address: number;
  command: PtzCommand;
}

export class PtzCmdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PtzCmdError';
  }
}

/** Annex A.3 instruction bits for pan/tilt/zoom (byte 4, bits 0–5). */
const BIT = { right: 0x01, left: 0x02, down: 0x04, up: 0x08, zoomIn: 0x10, zoomOut: 0x20 } as const;
/** Annex A.3 preset instructions. */
const PRESET: Readonly<Record<number, 'set' | 'goto' | 'delete'>> = { 0x81: 'set', 0x82: 'goto', 0x83: 'delete' };

function axis(bits: number, plus: number, minus: number): -1 | 0 | 1 {
  const p = (bits & plus) !== 0;
  const m = (bits & minus) !== 0;
  return p === m ? 0 : p ? 1 : -1;
}

export function decodePtzCmd(hex: string): DecodedPtzCmd {
  const clean = hex.trim();
  if (!/^[0-9A-Fa-f]{16}$/.test(clean)) throw new PtzCmdError(`PTZCmd must be 16 hex digits, got ${JSON.stringify(hex)}`);
  const b = Buffer.from(clean, 'hex');
  const at = (i: number): number => b[i] ?? 0;
  if (at(0) !== 0xa5) throw new PtzCmdError('PTZCmd does not start with A5');
  const sum = [0, 1, 2, 3, 4, 5, 6].reduce((s, i) => s + at(i), 0) & 0xff;
  if (sum !== at(7)) throw new PtzCmdError(`PTZCmd checksum ${at(7).toString(16)} should be ${sum.toString(16)}`);
  const address = ((at(6) & 0x0f) << 8) | at(2);
  const instruction = at(3);
  const data1 = at(4);
  const data2 = at(5);
  const data3 = at(6) >> 4;
  const preset = PRESET[instruction];
  if (preset !== undefined) return { address, command: { kind: 'preset', action: preset, index: data2 } };
  if ((instruction & 0xc0) === 0) {
    if (instruction === 0) return { address, command: { kind: 'stop' } };
    return {
      address,
      command: {
        kind: 'move',
        pan: axis(instruction, BIT.right, BIT.left),
        tilt: axis(instruction, BIT.up, BIT.down),
        zoom: axis(instruction, BIT.zoomIn, BIT.zoomOut),
        panSpeed: data1,
        tiltSpeed: data2,
        zoomSpeed: data3,
      },
    };
  }
  return { address, command: { kind: 'other', instruction, data1, data2, data3 } };
}

/** Builds the 16 hex digits (upper case) for a command: the inverse of decodePtzCmd. */
export function encodePtzCmd(command: PtzCommand, address = 0): string {
  let instruction = 0;
  let data1 = 0;
  let data2 = 0;
  let data3 = 0;
  switch (command.kind) {
    case 'stop':
      break;
    case 'move':
      instruction =
        (command.pan === 1 ? BIT.right : command.pan === -1 ? BIT.left : 0) |
        (command.tilt === 1 ? BIT.up : command.tilt === -1 ? BIT.down : 0) |
        (command.zoom === 1 ? BIT.zoomIn : command.zoom === -1 ? BIT.zoomOut : 0);
      [data1, data2, data3] = [command.panSpeed, command.tiltSpeed, command.zoomSpeed];
      break;
    case 'preset':
      instruction = { set: 0x81, goto: 0x82, delete: 0x83 }[command.action];
      data2 = command.index;
      break;
    case 'other':
      ({ instruction, data1, data2, data3 } = command);
      break;
  }
  const version = 0;
  // Byte 2's check nibble: (A + 5 + version) mod 16 (Annex A.3).
  const b2 = (version << 4) | ((0xa + 0x5 + version) & 0x0f);
  const bytes = [0xa5, b2, address & 0xff, instruction & 0xff, data1 & 0xff, data2 & 0xff, ((data3 & 0x0f) << 4) | ((address >> 8) & 0x0f)];
  bytes.push(bytes.reduce((s, v) => s + v, 0) & 0xff);
  return Buffer.from(bytes).toString('hex').toUpperCase();
}
