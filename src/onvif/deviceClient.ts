/**
 * Reads an ONVIF device with credentials through the onvif package: clock, services,
 * device information, media profiles with encoder settings, stream and snapshot URIs.
 * The package signs requests with a WS-Security UsernameToken digest and answers an HTTP
 * Digest challenge where the device sends one. Each failure names its step.
 */
import onvif from 'onvif';
import type { Logger } from '../log.js';
import { onvifStepError, type OnvifStep } from './errors.js';
import { ptzNodeFromXml, ptzProfileTokens } from './ptzCapability.js';
import { deviceInformationFromXml, profilesFromOnvif } from './soapFields.js';
import type { DeviceProbe, MediaProfile, PtzProbe } from './types.js';

export interface DeviceTarget {
  /** Device service URL, e.g. http://192.168.1.64/onvif/device_service. */
  xaddr: string;
  username: string;
  password: string;
  /** Per request. */
  timeoutMs: number;
}

export type OnvifCam = InstanceType<typeof onvif.Cam>;

export function camFor(xaddr: string, credentials: { username: string; password: string } | null, timeoutMs: number): OnvifCam {
  const url = new URL(xaddr);
  return new onvif.Cam({
    hostname: url.hostname,
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
    path: url.pathname || '/onvif/device_service',
    useSecure: url.protocol === 'https:',
    ...(credentials === null ? {} : { username: credentials.username, password: credentials.password }),
    timeout: timeoutMs,
    autoconnect: false,
    // Devices behind NAT or with a stale network config announce service URLs with the wrong host.
    preserveAddress: true,
  });
}

/** Calls one callback-style method of the package's Cam and resolves with its data and raw XML. */
export function call<T>(cam: OnvifCam, method: string, ...args: unknown[]): Promise<{ data: T; xml: string }> {
  return new Promise((resolve, reject) => {
    const fn = (cam as unknown as Record<string, (...a: unknown[]) => void>)[method];
    if (fn === undefined) {
      reject(new Error(`onvif client has no ${method}`));
      return;
    }
    fn.call(cam, ...args, (err: Error | null, data: T, xml?: string) => {
      if (err) reject(err);
      else resolve({ data, xml: xml ?? '' });
    });
  });
}

/** Everything the gateway needs from one device; throws GatewayErrors whose details name the failed step. */
export async function probeDevice(target: DeviceTarget, logger: Logger): Promise<DeviceProbe> {
  const cam = camFor(target.xaddr, target, target.timeoutMs);
  const step = async <T>(name: OnvifStep, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw onvifStepError(name, target.xaddr, err, target.username);
    }
  };

  // The clock first: the package dates its WS-Security tokens by the device's clock from here on.
  const clockDriftSeconds = await step('connect', async () => {
    const sentAt = Date.now();
    const { data } = await call<Date>(cam, 'getSystemDateAndTime');
    const localMid = (sentAt + Date.now()) / 2;
    return Math.round((data.getTime() - localMid) / 1000);
  });

  const services = await step('services', async () => {
    try {
      const { data } = await call<Array<{ namespace?: unknown }>>(cam, 'getServices', false);
      return (data ?? []).map((s) => String(s.namespace ?? '')).filter((s) => s !== '');
    } catch (err) {
      // Devices older than ONVIF 2.0 know only GetCapabilities.
      logger.debug({ xaddr: target.xaddr, err: (err as Error).message }, 'GetServices failed; trying GetCapabilities');
      const { data } = await call<Record<string, unknown>>(cam, 'getCapabilities');
      return Object.keys(data ?? {});
    }
  });

  // The first call that needs the credentials: a device may accept anything before it.
  const info = await step('auth', async () => deviceInformationFromXml((await call<unknown>(cam, 'getDeviceInformation')).xml));

  const { profiles, profilesXml } = await step('profiles', async () => {
    const { data, xml } = await call<unknown[]>(cam, 'getProfiles');
    return { profiles: profilesFromOnvif(data) as MediaProfile[], profilesXml: xml };
  });
  const ptz = await readPtz(cam, services, profilesXml, target.xaddr, logger);

  await step('stream URI', async () => {
    for (const p of profiles) {
      if (p.encoding === null) continue;
      try {
        // Media 1.0: Stream RTP-Unicast over Protocol RTSP is RTP interleaved in the RTSP/TCP connection.
        const { data } = await call<{ uri?: unknown }>(cam, 'getStreamUri', {
          protocol: 'RTSP',
          stream: 'RTP-Unicast',
          profileToken: p.token,
        });
        p.streamUri = typeof data?.uri === 'string' && data.uri !== '' ? data.uri : null;
      } catch (err) {
        logger.warn({ xaddr: target.xaddr, profile: p.token, err: (err as Error).message }, 'GetStreamUri failed for a profile');
      }
      try {
        const { data } = await call<{ uri?: unknown }>(cam, 'getSnapshotUri', { profileToken: p.token });
        p.snapshotUri = typeof data?.uri === 'string' && data.uri !== '' ? data.uri : null;
      } catch {
        // Snapshots are optional in Profile S.
      }
    }
  });

  return { xaddr: target.xaddr, info, profiles, clockDriftSeconds, services, ptz };
}

/** GetServices namespace or GetCapabilities key of the PTZ service. */
const isPtzService = (s: string): boolean => s === 'http://www.onvif.org/ver20/ptz/wsdl' || s === 'PTZ';

/** The PTZ service's node; a device whose PTZ answers badly is onboarded without PTZ, not refused. */
async function readPtz(cam: OnvifCam, services: string[], profilesXml: string, xaddr: string, logger: Logger): Promise<PtzProbe | null> {
  if (!services.some(isPtzService)) return null;
  const profileTokens = ptzProfileTokens(profilesXml);
  try {
    return { profileTokens, node: ptzNodeFromXml((await call<unknown>(cam, 'getNodes')).xml) };
  } catch (err) {
    logger.warn({ xaddr, err: (err as Error).message }, 'PTZ GetNodes failed; the camera is taken as without PTZ');
    return { profileTokens, node: null };
  }
}

/**
 * The device's clock (GetSystemDateAndTime answers without credentials) and the gateway's
 * clock at the middle of the exchange, so the network round trip does not count as drift.
 */
export async function readDeviceClock(xaddr: string, timeoutMs: number): Promise<{ deviceTime: Date; gatewayTime: Date }> {
  const cam = camFor(xaddr, null, timeoutMs);
  const sentAt = Date.now();
  const { data } = await call<Date>(cam, 'getSystemDateAndTime');
  return { deviceTime: data, gatewayTime: new Date((sentAt + Date.now()) / 2) };
}

/** Device information without credentials, for discovery listings; null when the device wants them. */
export async function readDeviceInformation(
  xaddr: string,
  credentials: { username: string; password: string } | null,
  timeoutMs: number,
): Promise<DeviceProbe['info'] | null> {
  const cam = camFor(xaddr, credentials, timeoutMs);
  try {
    await call<Date>(cam, 'getSystemDateAndTime');
    return deviceInformationFromXml((await call<unknown>(cam, 'getDeviceInformation')).xml);
  } catch {
    return null;
  }
}
