/**
 * The PTZ facts of an ONVIF device, read without I/O from the raw XML of GetProfiles,
 * GetNodes and GetPresets (the onvif package turns names like "1" into numbers, and its
 * parsed shapes differ between single and repeated elements).
 */
import type { PtzCapability } from '../domain/index.js';
import { elementText } from './soapFields.js';
import type { PtzNodeFacts, PtzProbe } from './types.js';

const P = '(?:[\\w.-]+:)?';

/** Each element with this local name: its attributes and inner XML. */
function elements(xml: string, localName: string): Array<{ attrs: string; inner: string }> {
  const re = new RegExp(`<${P}${localName}(\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${P}${localName}>)`, 'g');
  return [...xml.matchAll(re)].map((m) => ({ attrs: m[1] ?? '', inner: m[2] ?? '' }));
}

const tokenOf = (attrs: string): string | null => /\btoken="([^"]*)"/.exec(attrs)?.[1] ?? null;
const has = (xml: string, localName: string): boolean => new RegExp(`<${P}${localName}[\\s>/]`).test(xml);

export function ptzProfileTokens(profilesXml: string): string[] {
  return elements(profilesXml, 'Profiles')
    .filter((p) => has(p.inner, 'PTZConfiguration'))
    .flatMap((p) => tokenOf(p.attrs) ?? []);
}

export function ptzNodeFromXml(nodesXml: string): PtzNodeFacts | null {
  const node = elements(nodesXml, 'PTZNode')[0];
  if (node === undefined) return null;
  const spaces = elements(node.inner, 'SupportedPTZSpaces')[0]?.inner ?? '';
  const presets = Number(elementText(node.inner, 'MaximumNumberOfPresets'));
  return {
    panTilt: has(spaces, 'ContinuousPanTiltVelocitySpace'),
    zoom: has(spaces, 'ContinuousZoomVelocitySpace'),
    maxPresets: Number.isInteger(presets) && presets > 0 ? presets : 0,
    home: elementText(node.inner, 'HomeSupported') === 'true',
  };
}

/**
 * The camera's capability: moves go to the recorded profile when it carries a
 * PTZConfiguration, else to the first profile that does.
 */
export function ptzCapability(probe: PtzProbe | null, preferredProfile: string): PtzCapability | null {
  if (probe === null) return null;
  const profileToken = probe.profileTokens.includes(preferredProfile) ? preferredProfile : (probe.profileTokens[0] ?? null);
  const node = probe.node;
  if (profileToken === null || node === null || (!node.panTilt && !node.zoom))
    return { kind: 'none', profileToken: null, maxPresets: 0, home: false };
  return { kind: node.panTilt ? 'dome' : 'zoom', profileToken, maxPresets: node.maxPresets, home: node.home };
}

export function presetsFromXml(xml: string): Array<{ token: string; name: string | null }> {
  return elements(xml, 'Preset').flatMap((p) => {
    const token = tokenOf(p.attrs);
    return token === null ? [] : [{ token, name: elementText(p.inner, 'Name') }];
  });
}
