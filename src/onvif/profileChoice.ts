/**
 * Which media profile is recorded and ingested (the main stream) and which feeds the
 * shared tier (often the sub stream): the integrator's choice, else the largest H.264
 * profile records and shares (one pull per camera). Pure.
 */
import { GatewayError } from '../errors.js';
import type { OnvifDeviceRecord } from '../domain/index.js';
import type { MediaProfile } from './types.js';

export interface ProfileChoice {
  record: MediaProfile & { streamUri: string };
  shared: MediaProfile & { streamUri: string };
}

type Playable = MediaProfile & { streamUri: string };

export function chooseProfiles(profiles: readonly MediaProfile[], wanted: { record?: string; shared?: string } = {}): ProfileChoice {
  const playable = profiles.filter((p): p is Playable => p.encoding !== null && p.streamUri !== null);
  if (playable.length === 0) {
    throw new GatewayError('ONVIF_NO_PROFILE', 'the device has no media profile with a video stream URI', {
      hint: 'Create a media profile with a video encoder on the camera (its web page, or the vendor tool), then onboard again.',
      details: { profiles: profiles.map((p) => p.token) },
    });
  }
  const h264 = playable.filter((p) => p.encoding === 'H264');
  const pick = (token: string, role: string): Playable => {
    const p = playable.find((x) => x.token === token);
    if (p === undefined) {
      throw new GatewayError('VALIDATION_FAILED', `the device has no playable profile "${token}" for the ${role} stream`, {
        hint: `Choose one of: ${describe(playable)}.`,
      });
    }
    if (p.encoding !== 'H264') throw noH264(playable, `profile "${token}" chosen for the ${role} stream encodes ${p.encoding}`);
    return p;
  };
  if (h264.length === 0) throw noH264(playable, 'no media profile encodes H.264');
  const byArea = [...h264].sort((a, b) => area(b) - area(a));
  const record = wanted.record === undefined ? (byArea[0] as Playable) : pick(wanted.record, 'recorded');
  const shared = wanted.shared === undefined ? record : pick(wanted.shared, 'shared');
  return { record, shared };
}

/**
 * The stream that feeds a camera's shared tier through a second pull: only when the
 * integrator chose a shared profile other than the recorded one, with its own URL.
 * Null: the shared tier derives from the raw tier (the one pull).
 */
export function sharedSubStream(
  camera: { rtspUrl: string },
  device: Pick<OnvifDeviceRecord, 'recordProfileToken' | 'sharedProfileToken' | 'sharedStreamUrl'> | undefined,
): string | null {
  if (device === undefined || device.sharedProfileToken === device.recordProfileToken) return null;
  return device.sharedStreamUrl === camera.rtspUrl ? null : device.sharedStreamUrl;
}

function noH264(playable: readonly MediaProfile[], what: string): GatewayError {
  return new GatewayError('ONVIF_NO_H264_PROFILE', `${what} (profiles: ${describe(playable)})`, {
    hint: "Set a profile's video encoding to H.264 on the camera: the live tiers and platform pushes copy H.264 without re-encoding.",
    details: { profiles: playable.map((p) => ({ token: p.token, encoding: p.encoding })) },
  });
}

function describe(profiles: readonly MediaProfile[]): string {
  return profiles.map((p) => `${p.token} (${p.encoding ?? 'no video'} ${p.width ?? '?'}x${p.height ?? '?'})`).join(', ');
}

function area(p: MediaProfile): number {
  return (p.width ?? 0) * (p.height ?? 0);
}
