import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CameraRegistry } from '../../../src/cameras/registry.js';
import { CredentialBox, deriveKey } from '../../../src/cameras/credentialBox.js';
import { GatewayError } from '../../../src/errors.js';
import { OnvifOnboarding } from '../../../src/onvif/onboarding.js';
import { FailingStore } from '../../helpers/failingStore.js';
import { probeResult } from '../onvif/probeFixture.js';

const logger = pino({ level: 'silent' });

function registryOn(store: FailingStore): CameraRegistry {
  return new CameraRegistry({
    store,
    box: new CredentialBox(deriveKey('test secret', 'camera-credentials')),
    siteGuard: (siteType) => ({ forbidden: false, siteType, citations: [] }),
    isSiteType: (s) => s === 'road',
    idParts: { regionCode: '34020000', industryCode: '00', typeCode: '132', networkCode: '0' },
    logger,
  });
}

const probe = probeResult('SER-9');

describe('A camera created while the store fails its second write leaves nothing behind', () => {
  let store: FailingStore;
  beforeEach(async () => {
    store = await FailingStore.inMemory();
  });
  afterEach(async () => {
    await store.close();
  });

  async function nothingStored(): Promise<void> {
    expect(await store.inner.cameras.count()).toBe(0);
    expect(await store.inner.audit.list()).toEqual([]);
    expect(await store.inner.onvif.list()).toEqual([]);
  }

  it('through the registry: no camera row, no audit row, and the store failure as the error', async () => {
    const registry = registryOn(store);
    store.failAtWrite(2);
    const err = await registry.create({ name: 'Gate', rtspUrl: 'rtsp://10.0.0.9/ch1', siteType: 'road' }, 'admin').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('injected store failure at write 2 (audit.append)');
    expect(store.writes).toEqual(['cameras.insert', 'audit.append']);
    await nothingStored();
    // The same create goes through once the store works again, under the first ID.
    const view = await registry.create({ name: 'Gate', rtspUrl: 'rtsp://10.0.0.9/ch1', siteType: 'road' }, 'admin');
    expect(view.id).toBe('34020000001320000001');
    expect(await store.inner.audit.list({ cameraId: view.id })).toHaveLength(1);
  });

  it('through the registry with masks, failing at each write in turn', async () => {
    const masks = [{ shape: 'rect', x: 0.1, y: 0.1, w: 0.2, h: 0.2, mode: 'fill' }];
    for (const n of [1, 2, 3]) {
      const registry = registryOn(store);
      store.failAtWrite(n);
      await expect(
        registry.create({ id: '34020000001320000077', name: 'Gate', rtspUrl: 'rtsp://10.0.0.9/ch1', siteType: 'road', masks }, 'admin'),
      ).rejects.toThrow(`injected store failure at write ${n}`);
      await nothingStored();
    }
  });

  it('through ONVIF onboarding: no camera, no audit, no ONVIF row; the error names the register step', async () => {
    const registry = registryOn(store);
    const onboarding = new OnvifOnboarding({
      registry,
      devices: store.onvif,
      probeDevice: vi.fn(async () => probe),
      playCheck: vi.fn(async () => undefined),
      settings: { requestTimeoutMs: 1000, maxClockDriftSeconds: 30 },
      logger,
    });
    const request = { device: '10.0.0.7', username: 'admin', password: 'pw', siteType: 'road' };
    for (const n of [2, 3, 4]) {
      store.failAtWrite(n);
      const err = await onboarding.onboard(request, 'admin').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).details).toMatchObject({ step: 'register' });
      expect((err as GatewayError).message).toContain(`injected store failure at write ${n}`);
      await nothingStored();
    }
    // Once the store works, the device onboards and all four rows are there.
    const done = await onboarding.onboard(request, 'admin');
    expect(done.outcome).toBe('onboarded');
    expect(await store.inner.cameras.count()).toBe(1);
    expect(await store.inner.onvif.list()).toHaveLength(1);
    expect((await store.inner.audit.list()).map((e) => e.action).sort()).toEqual(['camera.create', 'camera.onboard']);
  });
});
