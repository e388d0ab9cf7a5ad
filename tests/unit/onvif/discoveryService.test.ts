import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OnvifDiscovery, FINDING_KINDS } from '../../../src/onvif/discoveryService.js';
import type { DiscoveredDevice, DeviceInformation } from '../../../src/onvif/types.js';
import { SqliteStore } from '../../../src/store/sqlite.js';
import { onvifRecord } from '../store/onvifContract.js';
import { camera } from '../store/storeContract.js';

const logger = pino({ level: 'silent' });

const device = (ref: string, host: string): DiscoveredDevice => ({
  endpointRef: ref,
  xaddrs: [`http://${host}/onvif/device_service`],
  address: host,
  types: [],
  scopes: [],
  scopeName: 'Scoped Maker',
  scopeHardware: 'SCOPE-HW',
});

interface Finding {
  op: 'fire' | 'resolve';
  cameraId: string | null;
  kind: string;
  message?: string;
}

describe('OnvifDiscovery', () => {
  let store: SqliteStore;
  let answers: DiscoveredDevice[];
  let findings: Finding[];
  let infoAsked: string[];
  let discovery: OnvifDiscovery;
  const a = camera(1);
  const b = camera(2);

  beforeEach(async () => {
    store = new SqliteStore(':memory:');
    await store.migrate();
    await store.cameras.insert(a);
    await store.cameras.insert(b);
    await store.onvif.upsert(onvifRecord(a.id, { endpointRef: 'urn:uuid:a', xaddr: 'http://10.0.0.1/onvif/device_service' }));
    await store.onvif.upsert(onvifRecord(b.id, { endpointRef: null, serialNumber: 'B', xaddr: 'http://10.0.0.2/onvif/device_service' }));
    answers = [];
    findings = [];
    infoAsked = [];
    discovery = new OnvifDiscovery({
      devices: store.onvif,
      probe: async () => answers,
      readInfo: async (xaddr): Promise<DeviceInformation | null> => {
        infoAsked.push(xaddr);
        return xaddr.includes('10.0.0.9')
          ? { manufacturer: 'Real Maker', model: 'M1', serialNumber: '0099', firmwareVersion: '1.0', hardwareId: 'h' }
          : null;
      },
      settings: { timeoutMs: 100, repeats: 1, interface: undefined, probeAddresses: [], requestTimeoutMs: 100, intervalMs: 0 },
      findings: {
        fire: (r) => findings.push({ op: 'fire', cameraId: r.cameraId, kind: r.kind, message: r.message }),
        resolve: (cameraId, kind) => findings.push({ op: 'resolve', cameraId, kind }),
      },
      logger,
      now: () => new Date('2025-03-01T00:00:00.000Z'),
    });
  });

  afterEach(async () => {
    await discovery.close();
    await store.close();
  });

  it('tells registered devices (by endpoint reference, or by address when none is stored) from unregistered ones', async () => {
    answers = [
      device('urn:uuid:a', '10.0.0.1'),
      device('urn:uuid:b', '10.0.0.2'),
      device('urn:uuid:n', '10.0.0.9'),
      device('urn:uuid:m', '10.0.0.8'),
    ];
    const { devices } = await discovery.discover();
    expect(devices.map((d) => [d.endpointRef, d.registered, d.cameraId, d.infoSource, d.manufacturer, d.serialNumber])).toEqual([
      ['urn:uuid:a', true, a.id, 'registry', 'SimVision', '12345678901234567890123'],
      ['urn:uuid:b', true, b.id, 'registry', 'SimVision', 'B'],
      ['urn:uuid:n', false, null, 'device', 'Real Maker', '0099'],
      ['urn:uuid:m', false, null, 'scopes', 'Scoped Maker', null],
    ]);
    // b was onboarded by address: discovery taught the record its endpoint reference.
    expect((await store.onvif.get(b.id))?.endpointRef).toBe('urn:uuid:b');
    // Registered devices are described from the records, without asking them.
    expect(infoAsked.sort()).toEqual(['http://10.0.0.8/onvif/device_service', 'http://10.0.0.9/onvif/device_service']);
  });

  it('a sweep flags vanished, moved and shadow devices, and resolves them when all is well again', async () => {
    answers = [device('urn:uuid:a', '10.0.0.5'), device('urn:uuid:s', '10.0.0.9')];
    await discovery.sweep();
    expect(findings.filter((f) => f.op === 'fire').map((f) => [f.cameraId, f.kind])).toEqual([
      [a.id, FINDING_KINDS.moved],
      [b.id, FINDING_KINDS.vanished],
      [null, FINDING_KINDS.shadow],
    ]);
    expect(findings.find((f) => f.kind === FINDING_KINDS.moved && f.op === 'fire')?.message).toMatch(
      /moved from 10\.0\.0\.1 to 10\.0\.0\.5/,
    );
    expect((await store.onvif.get(a.id))?.lastSeenAt).toBe('2025-03-01T00:00:00.000Z');

    findings = [];
    answers = [device('urn:uuid:a', '10.0.0.1'), device('urn:uuid:b', '10.0.0.2')];
    await discovery.sweep();
    expect(findings.filter((f) => f.op === 'fire')).toEqual([]);
    expect(findings.filter((f) => f.op === 'resolve').map((f) => [f.cameraId, f.kind])).toEqual(
      expect.arrayContaining([
        [a.id, FINDING_KINDS.moved],
        [b.id, FINDING_KINDS.vanished],
        [null, FINDING_KINDS.shadow],
      ]),
    );
    expect((await store.onvif.get(b.id))?.lastSeenAt).toBe('2025-03-01T00:00:00.000Z');
  });

  it('a failing probe fails only that sweep', async () => {
    const failing = new OnvifDiscovery({
      devices: store.onvif,
      probe: async () => Promise.reject(new Error('no network')),
      readInfo: async () => null,
      settings: { timeoutMs: 100, repeats: 1, interface: undefined, probeAddresses: [], requestTimeoutMs: 100, intervalMs: 0 },
      logger,
    });
    await expect(failing.sweep()).resolves.toBeUndefined();
    await expect(failing.discover()).rejects.toThrow('no network');
  });
});
