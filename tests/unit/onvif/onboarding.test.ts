import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { OnvifOnboarding, deviceServiceUrl } from '../../../src/onvif/onboarding.js';
import { FailingStore } from '../../helpers/failingStore.js';
import { useRegistry } from '../cameras/registryFixture.js';
import type { DeviceProbe } from '../../../src/onvif/types.js';
import { probeResult } from './probeFixture.js';

describe('OnvifOnboarding', () => {
  const t = useRegistry();
  const make = (over: { failAtWrite?: { n: number; error: Error }; probe?: DeviceProbe } = {}) => {
    const probeDevice = vi.fn(async () => over.probe ?? probeResult('SER-1'));
    const playCheck = vi.fn(async () => undefined);
    const store = new FailingStore(t.store);
    if (over.failAtWrite !== undefined) store.failAtWrite(over.failAtWrite.n, over.failAtWrite.error);
    const onboarding = new OnvifOnboarding({
      registry: over.failAtWrite === undefined ? t.registry : t.makeRegistry({ store }),
      devices: store.onvif,
      probeDevice,
      playCheck,
      settings: { requestTimeoutMs: 1000, maxClockDriftSeconds: 30 },
      logger: pino({ level: 'silent' }),
    });
    return { onboarding, probeDevice, playCheck, store };
  };
  const request = { device: '10.0.0.7', username: 'admin', password: 'pw', siteType: 'road' };

  it('onboards concurrent requests for one device once; the other is told it is already registered', async () => {
    const { onboarding, playCheck } = make();
    const results = await Promise.all([onboarding.onboard(request, 'admin'), onboarding.onboard(request, 'admin')]);
    expect(results.map((r) => r.outcome)).toEqual(['onboarded', 'already_registered']);
    expect(results[1]?.cameraId).toBe(results[0]?.cameraId);
    expect(await t.store.cameras.count()).toBe(1);
    expect(playCheck).toHaveBeenCalledTimes(1);
    expect(playCheck).toHaveBeenCalledWith('rtsp://10.0.0.7/ch1', { username: 'admin', password: 'pw' });
    const audit = await t.store.audit.list({ action: 'camera.onboard' });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain('"pw"');
  });

  it('stores the PTZ capability of the recorded profile; a device without a PTZ service has none', async () => {
    const ptz = { profileTokens: ['main'], node: { panTilt: true, zoom: true, maxPresets: 255, home: true } };
    const { onboarding } = make({ probe: { ...probeResult('SER-PTZ'), ptz } });
    const result = await onboarding.onboard(request, 'admin');
    const dome = { kind: 'dome', profileToken: 'main', maxPresets: 255, home: true };
    expect(result.onvif.ptz).toEqual(dome);
    expect((await t.store.onvif.get(result.cameraId))?.ptz).toEqual(dome);

    const plain = await make().onboarding.onboard({ ...request, device: '10.0.0.8' }, 'admin');
    expect((await t.store.onvif.get(plain.cameraId))?.ptz).toBeNull();
  });

  it('removes the camera again when its ONVIF facts cannot be stored', async () => {
    // Writes: the camera, its audit entry, the ONVIF row (fails), the onboarding audit entry.
    const { onboarding, store } = make({ failAtWrite: { n: 3, error: new Error('disk full') } });
    await expect(onboarding.onboard(request, 'admin')).rejects.toSatisfy(
      (e) => e instanceof GatewayError && (e.details as { step?: string }).step === 'register' && /disk full/.test(e.message),
    );
    expect(store.writes).toEqual(['cameras.insert', 'audit.append', 'onvif.upsert']);
    expect(await t.store.cameras.count()).toBe(0);
    expect(await t.store.onvif.list()).toEqual([]);
    expect(await t.store.audit.list()).toEqual([]);
  });

  it('refuses a malformed request and unknown camera fields before it talks to the device', async () => {
    const { onboarding, probeDevice } = make();
    await expect(onboarding.onboard({ siteType: 'road' }, 'admin')).rejects.toThrow(/invalid onboarding request: device/);
    await expect(onboarding.onboard({ ...request, colour: 'red' }, 'admin')).rejects.toThrow(/unknown field "colour"/);
    await expect(onboarding.onboard({ ...request, device: 'ftp://x' }, 'admin')).rejects.toThrow(/neither HOST\[:PORT\]/);
    expect(probeDevice).not.toHaveBeenCalled();
  });

  it('turns addresses into device-service URLs', () => {
    expect(deviceServiceUrl('192.168.1.64')).toBe('http://192.168.1.64/onvif/device_service');
    expect(deviceServiceUrl('192.168.1.64:8000')).toBe('http://192.168.1.64:8000/onvif/device_service');
    expect(deviceServiceUrl('http://10.0.0.1:80/onvif/device_service')).toBe('http://10.0.0.1/onvif/device_service');
  });
});
