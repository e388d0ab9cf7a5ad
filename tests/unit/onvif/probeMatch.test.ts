import { describe, expect, it } from 'vitest';
import { devicesFromProbeMatches, mergeDevices, parseProbeAddress, probeMessage } from '../../../src/onvif/probeMatch.js';

const match = (ref: string, xaddrs: string, scopes = '') => ({
  probeMatches: { probeMatch: { endpointReference: { address: ref }, types: 'dn:NetworkVideoTransmitter', scopes, XAddrs: xaddrs } },
});

describe('WS-Discovery answers', () => {
  it('reads endpoint, XAddrs and name/hardware scopes', () => {
    const [d] = devicesFromProbeMatches(
      match(
        'urn:uuid:1',
        'http://192.168.1.64/onvif/device_service http://[fe80::1]/onvif/device_service',
        'onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/HIKVISION%20DS-2CD onvif://www.onvif.org/hardware/DS-2CD2T47G2',
      ),
    );
    expect(d).toEqual({
      endpointRef: 'urn:uuid:1',
      xaddrs: ['http://192.168.1.64/onvif/device_service', 'http://[fe80::1]/onvif/device_service'],
      address: '192.168.1.64',
      types: ['dn:NetworkVideoTransmitter'],
      scopes: expect.any(Array),
      scopeName: 'HIKVISION DS-2CD',
      scopeHardware: 'DS-2CD2T47G2',
    });
  });

  it('skips matches without an endpoint or an http XAddr, and reads several matches in one answer', () => {
    const parsed = {
      probeMatches: {
        probeMatch: [
          { endpointReference: { address: '' }, XAddrs: 'http://10.0.0.1/onvif/device_service' },
          { endpointReference: { address: 'urn:uuid:2' }, XAddrs: 'not-a-url' },
          { endpointReference: { address: { _: 'urn:uuid:3' } }, XAddrs: 'http://10.0.0.3:8080/onvif/device_service' },
        ],
      },
    };
    expect(devicesFromProbeMatches(parsed).map((d) => [d.endpointRef, d.address, d.scopeName])).toEqual([['urn:uuid:3', '10.0.0.3', null]]);
    expect(devicesFromProbeMatches({})).toEqual([]);
  });

  it('merges repeated answers by endpoint reference, uniting XAddrs', () => {
    const a = devicesFromProbeMatches(match('urn:uuid:1', 'http://10.0.0.1/onvif/device_service'));
    const b = devicesFromProbeMatches(match('urn:uuid:1', 'http://10.0.0.1/onvif/device_service http://10.0.1.1/onvif/device_service'));
    const c = devicesFromProbeMatches(match('urn:uuid:2', 'http://10.0.0.2/onvif/device_service'));
    const merged = mergeDevices([...a, ...c, ...b]);
    expect(merged.map((d) => [d.endpointRef, d.xaddrs])).toEqual([
      ['urn:uuid:1', ['http://10.0.0.1/onvif/device_service', 'http://10.0.1.1/onvif/device_service']],
      ['urn:uuid:2', ['http://10.0.0.2/onvif/device_service']],
    ]);
    expect(a[0]?.xaddrs).toEqual(['http://10.0.0.1/onvif/device_service']);
  });

  it('parses probe addresses and refuses bad ones', () => {
    expect(parseProbeAddress('192.168.1.64')).toEqual({ host: '192.168.1.64', port: 3702 });
    expect(parseProbeAddress(' cam.local:4000 ')).toEqual({ host: 'cam.local', port: 4000 });
    expect(parseProbeAddress('[fe80::1]:3702')).toEqual({ host: 'fe80::1', port: 3702 });
    for (const bad of ['', 'a b', 'host:99999', 'host:', 'a:b:c'])
      expect(() => parseProbeAddress(bad), bad).toThrow(/is not HOST\[:PORT\]/);
  });

  it('probes for NetworkVideoTransmitters with the given message id', () => {
    const xml = probeMessage('urn:uuid:abc');
    expect(xml).toContain('<a:MessageID>urn:uuid:abc</a:MessageID>');
    expect(xml).toContain('<d:Types>dn:NetworkVideoTransmitter</d:Types>');
    expect(xml).toContain('http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe');
  });
});
