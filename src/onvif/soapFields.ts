/**
 * Fields read out of ONVIF answers, without I/O. Device information is read from the raw
 * XML because the onvif package turns number-like text into numbers: a 20-digit serial
 * would lose its last digits.
 */
import type { DeviceInformation, MediaProfile } from './types.js';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Text of the first element with this local name (any namespace prefix), entities decoded, or null. */
export function elementText(xml: string, localName: string): string | null {
  const m = new RegExp(`<(?:[\\w.-]+:)?${localName}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${localName}>`).exec(xml);
  if (m?.[1] === undefined) return null;
  const text = m[1]
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e] ?? '')
    .trim();
  return text === '' ? null : text;
}

export function deviceInformationFromXml(xml: string): DeviceInformation {
  return {
    manufacturer: elementText(xml, 'Manufacturer'),
    model: elementText(xml, 'Model'),
    firmwareVersion: elementText(xml, 'FirmwareVersion'),
    serialNumber: elementText(xml, 'SerialNumber'),
    hardwareId: elementText(xml, 'HardwareId'),
  };
}

interface OnvifProfileObject {
  $?: { token?: unknown };
  name?: unknown;
  videoEncoderConfiguration?: {
    encoding?: unknown;
    resolution?: { width?: unknown; height?: unknown };
    rateControl?: { frameRateLimit?: unknown; bitrateLimit?: unknown };
  };
}

/** Profiles as GetProfiles gave them (parsed by the package), with encoder settings; URIs are filled later. */
export function profilesFromOnvif(data: unknown): MediaProfile[] {
  const list = Array.isArray(data) ? data : data === undefined || data === null ? [] : [data];
  return (list as OnvifProfileObject[]).flatMap((p) => {
    const token = p.$?.token;
    if (token === undefined || token === null || token === '') return [];
    const enc = p.videoEncoderConfiguration;
    return [
      {
        token: String(token),
        name: p.name === undefined ? String(token) : String(p.name),
        encoding: enc?.encoding === undefined ? null : String(enc.encoding).toUpperCase(),
        width: num(enc?.resolution?.width),
        height: num(enc?.resolution?.height),
        fps: num(enc?.rateControl?.frameRateLimit),
        bitrateKbps: num(enc?.rateControl?.bitrateLimit),
        streamUri: null,
        snapshotUri: null,
      },
    ];
  });
}

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}
