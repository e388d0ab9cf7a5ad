/**
 * Steers onboarded cameras over ONVIF PTZ (ptz.wsdl) through the onvif package: one
 * session per camera (clock read and service URLs found once, credentials from the
 * registry), commands to one camera carried out in arrival order so a Stop never overtakes
 * the move it ends. A session whose call fails is dropped and rebuilt on the next command.
 * What the camera cannot do (by its stored capability) is refused before any traffic.
 */
import { createHash } from 'node:crypto';
import type { CameraCredentials, OnvifDeviceRecord, PtzAction, PtzCapability, PtzOutcome } from '../domain/index.js';
import type { Logger } from '../log.js';
import type { OnvifDeviceRepository } from '../store/index.js';
import { call, camFor, type OnvifCam } from './deviceClient.js';
import { presetsFromXml } from './ptzCapability.js';

export interface OnvifPtzDeps {
  devices: Pick<OnvifDeviceRepository, 'get' | 'list'>;
  /** The camera's credentials in clear (the registry opens its sealed box). */
  credentials(cameraId: string): Promise<CameraCredentials | null>;
  timeoutMs: number;
  logger: Logger;
}

interface Session {
  /** Which device and credentials the session was built for: a change rebuilds it. */
  key: string;
  cam: Promise<OnvifCam>;
}

/** Why the capability rules an action out, or null when the camera can do it. */
export function ptzRefusal(cap: PtzCapability | null, action: PtzAction): string | null {
  if (cap === null || cap.kind === 'none' || cap.profileToken === null) return 'the camera has no ONVIF PTZ';
  if (action.kind === 'move' && cap.kind === 'zoom' && (action.x !== 0 || action.y !== 0)) return 'the camera can only zoom';
  if (action.kind === 'preset' && action.index > cap.maxPresets) return `the camera has ${cap.maxPresets} presets`;
  if (action.kind === 'home' && !cap.home) return 'the camera has no home position';
  return null;
}

export class OnvifPtz {
  readonly #deps: OnvifPtzDeps;
  readonly #sessions = new Map<string, Session>();
  /** The last command queued per camera. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(deps: OnvifPtzDeps) {
    this.#deps = deps;
  }

  async capabilities(): Promise<ReadonlyMap<string, PtzCapability>> {
    const rows = await this.#deps.devices.list();
    return new Map(rows.flatMap((r) => (r.ptz === null ? [] : [[r.cameraId, r.ptz] as const])));
  }

  run(cameraId: string, action: PtzAction): Promise<PtzOutcome> {
    const previous = this.#queues.get(cameraId) ?? Promise.resolve();
    const next = previous.then(() => this.#run(cameraId, action));
    const settled = next.catch(() => undefined);
    this.#queues.set(cameraId, settled);
    void settled.then(() => this.#queues.get(cameraId) === settled && this.#queues.delete(cameraId));
    return next;
  }

  /** Forgets every session; idempotent. */
  close(): void {
    this.#sessions.clear();
  }

  async #run(cameraId: string, action: PtzAction): Promise<PtzOutcome> {
    const device = await this.#deps.devices.get(cameraId);
    const cap = device?.ptz ?? null;
    const refusal = ptzRefusal(cap, action);
    if (device === undefined || cap === null || refusal !== null)
      return { outcome: 'refused', reason: refusal ?? 'the camera has no ONVIF PTZ' };
    const profileToken = cap.profileToken as string;
    try {
      const cam = await this.#session(device);
      await this.#perform(cam, profileToken, cap, action);
      return { outcome: 'ok' };
    } catch (err) {
      this.#sessions.delete(cameraId);
      const reason = err instanceof Error ? err.message : String(err);
      this.#deps.logger.warn({ cameraId, action, err: reason }, 'ONVIF PTZ call failed');
      return { outcome: 'error', reason: `ONVIF PTZ call failed: ${reason}` };
    }
  }

  async #perform(cam: OnvifCam, profileToken: string, cap: PtzCapability, action: PtzAction): Promise<void> {
    switch (action.kind) {
      case 'move':
        // A zoom-only device may refuse a PanTilt vector, even a zero one.
        await call(cam, 'continuousMove', { profileToken, x: action.x, y: action.y, zoom: action.zoom, onlySendZoom: cap.kind === 'zoom' });
        return;
      case 'stop':
        await call(cam, 'stop', { profileToken, panTilt: cap.kind === 'dome', zoom: true });
        return;
      case 'home':
        await call(cam, 'gotoHomePosition', { profileToken });
        return;
      case 'preset': {
        // A GB/T 28181 preset number is the ONVIF preset's name (or token, for devices that number their tokens).
        const wanted = String(action.index);
        const presets = presetsFromXml((await call<unknown>(cam, 'getPresets', { profileToken })).xml);
        const found = presets.find((p) => p.name === wanted) ?? presets.find((p) => p.token === wanted);
        if (action.action === 'set') {
          await call(cam, 'setPreset', { profileToken, presetName: wanted, ...(found === undefined ? {} : { presetToken: found.token }) });
          return;
        }
        if (found === undefined) throw new Error(`preset ${wanted} is not set on the camera`);
        if (action.action === 'goto') await call(cam, 'gotoPreset', { profileToken, preset: found.token });
        else await call(cam, 'removePreset', { profileToken, presetToken: found.token });
        return;
      }
    }
  }

  #session(device: OnvifDeviceRecord): Promise<OnvifCam> {
    const id = device.cameraId;
    return this.#deps.credentials(id).then((creds) => {
      const key = createHash('sha256')
        .update(JSON.stringify([device.xaddr, creds?.username ?? '', creds?.password ?? '']))
        .digest('hex');
      const current = this.#sessions.get(id);
      if (current !== undefined && current.key === key) return current.cam;
      const cam = this.#connect(device.xaddr, creds);
      this.#sessions.set(id, { key, cam });
      cam.catch(() => this.#sessions.get(id)?.cam === cam && this.#sessions.delete(id));
      return cam;
    });
  }

  async #connect(xaddr: string, creds: CameraCredentials | null): Promise<OnvifCam> {
    const cam = camFor(xaddr, creds, this.#deps.timeoutMs);
    // The clock first: WS-Security tokens are dated by the device's clock.
    await call(cam, 'getSystemDateAndTime');
    // GetServices (or GetCapabilities on older devices) tells the package where the PTZ service is.
    try {
      await call(cam, 'getServices', false);
    } catch {
      await call(cam, 'getCapabilities');
    }
    if ((cam as unknown as { uri?: { ptz?: unknown } }).uri?.ptz === undefined) throw new Error(`${xaddr} names no PTZ service`);
    return cam;
  }
}
