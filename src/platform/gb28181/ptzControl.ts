/**
 * DeviceControl with a PTZCmd (GB/T 28181-2016 §9.3, A.2.3 device control; PTZCmd A.3):
 * the command is translated to an ONVIF-style PTZ action and carried out by whoever steers
 * the camera. The MESSAGE is answered first (200, or a refusal for a channel the platform
 * was not given, a malformed PTZCmd or an instruction without an equivalent); the outcome
 * follows as a DeviceControl Response with Result OK or ERROR.
 */
import type { PtzAction, PtzCapability, PtzOutcome } from '../../domain/index.js';
import type { Logger } from '../../log.js';
import type { Reply } from './endpoint.js';
import type { PtzCommand } from './manscdp/ptz.js';
import type { ManscdpMessage } from './manscdp/query.js';
import { buildResultResponse } from './manscdp/response.js';

/** Who steers the cameras (the ONVIF PTZ sessions). */
export interface PtzTarget {
  /** Capability per camera that has one; cameras absent have none. */
  capabilities(): Promise<ReadonlyMap<string, PtzCapability>>;
  run(cameraId: string, action: PtzAction): Promise<PtzOutcome>;
}

/** One PTZ command from a platform, for the log and the audit chain. */
export interface PtzCommandEvent {
  platform: string;
  cameraId: string;
  /** The PTZCmd as sent (16 hex digits). */
  command: string;
  action: PtzAction | null;
  outcome: PtzOutcome['outcome'];
  reason: string | null;
}

/** Velocity in -1..1 from a direction and a speed byte; a direction at speed 0 still moves, at the slowest step. */
function velocity(direction: -1 | 0 | 1, speed: number, max: number): number {
  if (direction === 0) return 0;
  return Math.round((direction * Math.max(1, Math.min(speed, max)) * 1000) / max) / 1000 || 0;
}

/** The ONVIF action for a decoded PTZCmd; null when it has none (focus, iris, cruise, scan, aux, preset 0). */
export function ptzAction(c: PtzCommand): PtzAction | null {
  switch (c.kind) {
    case 'stop':
      return { kind: 'stop' };
    case 'move':
      return {
        kind: 'move',
        x: velocity(c.pan, c.panSpeed, 255),
        y: velocity(c.tilt, c.tiltSpeed, 255),
        zoom: velocity(c.zoom, c.zoomSpeed, 15),
      };
    case 'preset':
      // Preset numbers run 1–255 (A.3.4).
      return c.index >= 1 ? { kind: 'preset', action: c.action, index: c.index } : null;
    case 'other':
      return null;
  }
}

type DeviceControl = Extract<ManscdpMessage, { kind: 'deviceControl' }> & { ptzCmdHex: string };

export interface PtzControlContext {
  platform: string;
  /** IDs of the cameras this platform was given. */
  shared(): Promise<string[]>;
  target: PtzTarget;
  reply: Reply;
  /** Sends a MANSCDP body to the platform (a MESSAGE). */
  respond(body: Buffer): Promise<unknown>;
  onCommand?(e: PtzCommandEvent): void;
  logger: Logger;
}

export async function controlPtz(msg: DeviceControl, ctx: PtzControlContext): Promise<void> {
  const cameraId = msg.deviceId;
  const done = (action: PtzAction | null, outcome: PtzOutcome): void => {
    const reason = outcome.outcome === 'ok' ? null : outcome.reason;
    const e: PtzCommandEvent = { platform: ctx.platform, cameraId, command: msg.ptzCmdHex, action, outcome: outcome.outcome, reason };
    ctx.logger.info(e, outcome.outcome === 'ok' ? 'PTZ command carried out' : 'PTZ command not carried out');
    ctx.onCommand?.(e);
  };
  const refuse = (status: number, phrase: string, reason: string): void => {
    ctx.reply(status, phrase);
    done(null, { outcome: 'refused', reason });
  };
  if (msg.ptz === undefined || 'error' in msg.ptz) return refuse(400, 'Bad Request', msg.ptz?.error ?? 'no PTZCmd');
  if (!(await ctx.shared()).includes(cameraId)) return refuse(404, 'Not Found', `channel ${cameraId} is not shared with this platform`);
  const action = ptzAction(msg.ptz.command);
  if (action === null) {
    const instruction = msg.ptz.command.kind === 'other' ? msg.ptz.command.instruction : 0;
    return refuse(501, 'Not Implemented', `PTZCmd instruction ${instruction.toString(16).toUpperCase()}h has no ONVIF equivalent here`);
  }
  ctx.reply(200, 'OK');
  let outcome: PtzOutcome;
  try {
    outcome = await ctx.target.run(cameraId, action);
  } catch (err) {
    outcome = { outcome: 'error', reason: err instanceof Error ? err.message : String(err) };
  }
  done(action, outcome);
  const result = outcome.outcome === 'ok' ? 'OK' : 'ERROR';
  await ctx.respond(buildResultResponse({ cmdType: 'DeviceControl', sn: msg.sn, deviceId: cameraId, result }, { charset: msg.charset }));
}
