/**
 * What a camera's PTZ can do, as its ONVIF PTZ service reports it, and the moves the
 * gateway asks of it (translated from GB/T 28181 PTZCmd, carried out over ONVIF PTZ).
 */

/**
 * `dome`: continuous pan, tilt and zoom (GB/T 28181 PTZType 1, 球机); `zoom`: a zoom lens
 * only (PTZType 4, remote-controlled bullet); `none`: a PTZ service without a usable node.
 */
export interface PtzCapability {
  kind: 'dome' | 'zoom' | 'none';
  /** The media profile whose PTZConfiguration the moves are sent for; null without one. */
  profileToken: string | null;
  /** MaximumNumberOfPresets of the PTZ node (0: no presets). */
  maxPresets: number;
  /** Whether the node supports GotoHomePosition. */
  home: boolean;
}

/** One PTZ request: velocities in ONVIF's generic space (-1..1; + is right, up, tele). */
export type PtzAction =
  | { kind: 'move'; x: number; y: number; zoom: number }
  | { kind: 'stop' }
  | { kind: 'preset'; action: 'set' | 'goto' | 'delete'; index: number }
  | { kind: 'home' };

/** How a PTZ request ended: refused (the camera cannot do it) differs from a device failure. */
export type PtzOutcome = { outcome: 'ok' } | { outcome: 'refused' | 'error'; reason: string };
