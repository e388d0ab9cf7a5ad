import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { OnvifClockCheck } from '../../../src/onvif/clockCheck.js';
import type { OnvifDeviceRecord } from '../../../src/domain/index.js';
import type { OnvifDeviceRepository } from '../../../src/store/index.js';

const quiet = pino({ level: 'silent' });

function device(cameraId: string, xaddr: string): OnvifDeviceRecord {
  return {
    cameraId,
    endpointRef: null,
    xaddr,
    manufacturer: null,
    model: null,
    serialNumber: null,
    firmwareVersion: null,
    hardwareId: null,
    recordProfileToken: 'main',
    recordStreamUrl: 'rtsp://cam/main',
    sharedProfileToken: 'sub',
    sharedStreamUrl: 'rtsp://cam/sub',
    snapshotUrl: null,
    clockDriftSeconds: 0,
    clockCheckedAt: '2026-01-01T00:00:00.000Z',
    onboardedAt: '2026-01-01T00:00:00.000Z',
    lastSeenAt: null,
    ptz: null,
  };
}

describe('OnvifClockCheck', () => {
  it('reports every answering device to the clock watch, stores its drift, and skips one that does not answer', async () => {
    const rows = new Map([
      ['c1', device('c1', 'http://10.0.0.1/onvif/device_service')],
      ['c2', device('c2', 'http://10.0.0.2/onvif/device_service')],
    ]);
    const devices = {
      list: () => Promise.resolve([...rows.values()]),
      upsert: (r: OnvifDeviceRecord) => Promise.resolve(void rows.set(r.cameraId, r)),
    } as unknown as OnvifDeviceRepository;
    const gatewayTime = new Date('2026-06-01T12:00:00.000Z');
    const reports: Array<[string, number]> = [];
    const check = new OnvifClockCheck({
      devices,
      readClock: (xaddr) =>
        xaddr.includes('10.0.0.2')
          ? Promise.reject(new Error('timeout'))
          : Promise.resolve({ deviceTime: new Date(gatewayTime.getTime() + 42_400), gatewayTime }),
      clock: { report: (id, camera, gateway) => reports.push([id, (camera.getTime() - gateway.getTime()) / 1000]) },
      intervalMs: 0,
      logger: quiet,
    });
    expect(await check.checkAll()).toBe(1);
    expect(reports).toEqual([['c1', 42.4]]);
    expect(rows.get('c1')).toMatchObject({ clockDriftSeconds: 42, clockCheckedAt: gatewayTime.toISOString() });
    expect(rows.get('c2')?.clockCheckedAt).toBe('2026-01-01T00:00:00.000Z');
    await check.close();
  });
});
