import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OnvifDeviceRecord } from '../../../src/domain/index.js';
import { camera, type StoreHarness } from './storeContract.js';

export function onvifRecord(cameraId: string, over: Partial<OnvifDeviceRecord> = {}): OnvifDeviceRecord {
  return {
    cameraId,
    endpointRef: `urn:uuid:${cameraId.slice(-6)}`,
    xaddr: 'http://10.0.0.7/onvif/device_service',
    manufacturer: 'SimVision',
    model: 'SV-IPC-2120',
    serialNumber: '12345678901234567890123',
    firmwareVersion: 'V5.6.3',
    hardwareId: '88',
    recordProfileToken: 'Profile_101',
    recordStreamUrl: 'rtsp://10.0.0.7/Streaming/Channels/101',
    sharedProfileToken: 'Profile_102',
    sharedStreamUrl: 'rtsp://10.0.0.7/Streaming/Channels/102',
    snapshotUrl: null,
    clockDriftSeconds: -1.5,
    clockCheckedAt: '2025-01-01T00:00:00.000Z',
    onboardedAt: '2025-01-01T00:00:00.000Z',
    lastSeenAt: null,
    ptz: null,
    ...over,
  };
}

/** The ONVIF device repository, for every Store implementation. */
export function describeOnvifRepositoryContract(label: string, makeHarness: () => StoreHarness): void {
  describe(`${label}: ONVIF devices`, () => {
    let h: StoreHarness;
    beforeEach(() => {
      h = makeHarness();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('stores, finds by endpoint reference then serial, marks seen, and goes with its camera', async () => {
      const store = await h.fresh();
      const [a, b] = [camera(1), camera(2)];
      await store.cameras.insert(a);
      await store.cameras.insert(b);
      const ra = onvifRecord(a.id);
      const rb = onvifRecord(b.id, {
        endpointRef: null,
        serialNumber: 'B-SERIAL',
        snapshotUrl: 'http://10.0.0.8/snap.jpg',
        ptz: { kind: 'dome', profileToken: 'Profile_101', maxPresets: 255, home: true },
      });
      await store.onvif.upsert(ra);
      await store.onvif.upsert(rb);
      expect(await store.onvif.get(a.id)).toEqual(ra);
      expect(await store.onvif.get(b.id)).toEqual(rb);
      expect((await store.onvif.list()).map((r) => r.cameraId)).toEqual([a.id, b.id]);

      expect((await store.onvif.findByIdentity({ endpointRef: ra.endpointRef }))?.cameraId).toBe(a.id);
      expect((await store.onvif.findByIdentity({ endpointRef: 'urn:uuid:other', serialNumber: 'B-SERIAL' }))?.cameraId).toBe(b.id);
      expect(await store.onvif.findByIdentity({ endpointRef: 'urn:uuid:other', serialNumber: 'nope' })).toBeUndefined();
      expect(await store.onvif.findByIdentity({})).toBeUndefined();

      await store.onvif.markSeen(b.id, '2025-02-01T00:00:00.000Z', 'urn:uuid:b-found');
      await store.onvif.markSeen(a.id, '2025-02-01T00:00:00.000Z', 'urn:uuid:ignored');
      expect(await store.onvif.get(b.id)).toMatchObject({ endpointRef: 'urn:uuid:b-found', lastSeenAt: '2025-02-01T00:00:00.000Z' });
      expect((await store.onvif.get(a.id))?.endpointRef).toBe(ra.endpointRef);

      await store.onvif.upsert({ ...ra, sharedProfileToken: 'Profile_101', clockDriftSeconds: 3 });
      expect(await store.onvif.get(a.id)).toMatchObject({ sharedProfileToken: 'Profile_101', clockDriftSeconds: 3 });

      await store.cameras.remove(a.id);
      expect(await store.onvif.get(a.id)).toBeUndefined();
      expect(await store.onvif.remove(b.id)).toBe(true);
      expect(await store.onvif.remove(b.id)).toBe(false);
    });

    it('refuses a row for a camera that does not exist', async () => {
      const store = await h.fresh();
      await expect(store.onvif.upsert(onvifRecord('34020000001320999999'))).rejects.toThrow();
      expect(await store.onvif.list()).toEqual([]);
    });
  });
}
