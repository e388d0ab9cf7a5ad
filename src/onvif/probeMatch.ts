/**
 * WS-Discovery messages, without I/O: the Probe the gateway sends when it probes an
 * address directly, and the normalising of ProbeMatch answers (as the onvif package
 * parses them) into DiscoveredDevice, merged by endpoint reference.
 */
import { randomUUID } from 'node:crypto';
import type { DiscoveredDevice } from './types.js';

export const WS_DISCOVERY_PORT = 3702;

/** A WS-Discovery 2005/04 Probe for ONVIF NetworkVideoTransmitters. */
export function probeMessage(messageId: string = `urn:uuid:${randomUUID()}`): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    `<s:Header><a:MessageID>${messageId}</a:MessageID>` +
    '<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
    '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

/**
 * A parsed ProbeMatches body as the onvif package gives it (`resolve: false`): tag
 * names without prefixes, first letter lower-cased, one-element arrays flattened.
 */
export interface ParsedProbeMatches {
  probeMatches?: { probeMatch?: ProbeMatchObject | ProbeMatchObject[] };
}

interface ProbeMatchObject {
  endpointReference?: { address?: unknown };
  types?: unknown;
  scopes?: unknown;
  XAddrs?: unknown;
}

/** Every match in one answer that names an endpoint and at least one http(s) XAddr. */
export function devicesFromProbeMatches(parsed: ParsedProbeMatches): DiscoveredDevice[] {
  const raw = parsed.probeMatches?.probeMatch;
  const matches = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const devices: DiscoveredDevice[] = [];
  for (const m of matches) {
    const endpointRef = textOf(m.endpointReference?.address).trim();
    const xaddrs = words(m.XAddrs).filter(isHttpUrl);
    if (endpointRef === '' || xaddrs.length === 0) continue;
    const scopes = words(m.scopes);
    devices.push({
      endpointRef,
      xaddrs,
      address: new URL(xaddrs[0] as string).hostname,
      types: words(m.types),
      scopes,
      scopeName: scopeValue(scopes, 'name'),
      scopeHardware: scopeValue(scopes, 'hardware'),
    });
  }
  return devices;
}

/** Merges answers to repeated probes: one entry per endpoint reference, XAddrs united, first answer first. */
export function mergeDevices(answers: readonly DiscoveredDevice[]): DiscoveredDevice[] {
  const byRef = new Map<string, DiscoveredDevice>();
  for (const d of answers) {
    const known = byRef.get(d.endpointRef);
    if (known === undefined) {
      byRef.set(d.endpointRef, { ...d, xaddrs: [...d.xaddrs], scopes: [...d.scopes], types: [...d.types] });
      continue;
    }
    for (const x of d.xaddrs) if (!known.xaddrs.includes(x)) known.xaddrs.push(x);
    for (const s of d.scopes) if (!known.scopes.includes(s)) known.scopes.push(s);
    known.scopeName ??= d.scopeName;
    known.scopeHardware ??= d.scopeHardware;
  }
  return [...byRef.values()];
}

/** `host:port` (port defaults to 3702) → [host, port]; throws a plain Error with the problem. */
export function parseProbeAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+))(?::(\d{1,5}))?$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = m?.[3] === undefined ? WS_DISCOVERY_PORT : Number(m[3]);
  if (host === undefined || port < 1 || port > 65535) throw new Error(`"${text}" is not HOST[:PORT]`);
  return { host, port };
}

function scopeValue(scopes: readonly string[], key: string): string | null {
  const prefix = `onvif://www.onvif.org/${key}/`;
  const hit = scopes.find((s) => s.toLowerCase().startsWith(prefix.toLowerCase()));
  if (hit === undefined) return null;
  try {
    return decodeURIComponent(hit.slice(prefix.length)).replace(/_/g, ' ') || null;
  } catch {
    return hit.slice(prefix.length) || null;
  }
}

/** Element text as the package gives it: a string, a number it mistook a string for, or `{_: text}` with attributes. */
function textOf(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  if (typeof v === 'object' && v !== null && '_' in v) return textOf((v as { _: unknown })._);
  return '';
}

function words(v: unknown): string[] {
  return textOf(v)
    .split(/\s+/)
    .filter((w) => w !== '');
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
