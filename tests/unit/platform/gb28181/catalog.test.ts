import { describe, expect, it } from 'vitest';
import type { PtzCapability } from '../../../../src/domain/index.js';
import { catalogChanges, catalogItem, sharedCameras, type CatalogCamera } from '../../../../src/platform/gb28181/catalog.js';

const camera = (id: string, fields: Partial<CatalogCamera> = {}): CatalogCamera => ({
  id,
  name: '南门',
  address: null,
  lat: null,
  lon: null,
  ownerUnit: null,
  enabled: true,
  ...fields,
});

describe('catalog', () => {
  it('shares all cameras or only the listed ones, in registry order', () => {
    const all = [camera('44030500001328000001'), camera('44030500001328000002'), camera('44030500001328000003')];
    expect(sharedCameras(all, 'all').map((c) => c.id)).toHaveLength(3);
    expect(sharedCameras(all, ['44030500001328000003', '44030500001328000001']).map((c) => c.id)).toEqual([
      '44030500001328000001',
      '44030500001328000003',
    ]);
  });

  it('fills CivilCode from the ID and Status from live state, never leaving mandatory fields null', () => {
    const item = catalogItem(camera('44030500001328000001', { lat: 22.5, lon: 113.9, ownerUnit: '南山分局' }), {
      parentId: '34020000001180000001',
      online: true,
    });
    expect(item).toMatchObject({
      deviceId: '44030500001328000001',
      civilCode: '440305',
      owner: '南山分局',
      manufacturer: 'unknown',
      address: '',
      parental: 0,
      parentId: '34020000001180000001',
      status: 'ON',
      longitude: 113.9,
      latitude: 22.5,
    });
    expect(catalogItem(camera('44030500001328000001'), { parentId: 'x', online: false }).status).toBe('OFF');
    expect(catalogItem(camera('44030500001328000001', { enabled: false }), { parentId: 'x', online: true }).status).toBe('OFF');
  });

  it('gives PTZType from the ONVIF PTZ capability: 1 dome, 4 zoom-only, 3 fixed (none, or no ONVIF)', () => {
    const id = '44030500001328000001';
    const ptzType = (ptz: PtzCapability | null) => catalogItem(camera(id), { parentId: 'x', online: true, ptz }).info?.ptzType;
    expect(ptzType({ kind: 'dome', profileToken: 'p', maxPresets: 255, home: true })).toBe(1);
    expect(ptzType({ kind: 'zoom', profileToken: 'p', maxPresets: 0, home: false })).toBe(4);
    expect(ptzType({ kind: 'none', profileToken: null, maxPresets: 0, home: false })).toBe(3);
    expect(ptzType(null)).toBe(3);
    expect(catalogItem(camera(id), { parentId: 'x', online: true }).info?.ptzType).toBe(3);
  });
});

describe('catalog changes', () => {
  const item = (id: string, fields: Partial<CatalogCamera> = {}, online = true) =>
    catalogItem(camera(id, fields), { parentId: '34020000001180000001', online });

  it('gives ADD, DEL, ON, OFF and UPDATE (a rename carries the whole item)', () => {
    const before = new Map(
      [
        item('44030500001328000001'),
        item('44030500001328000002'),
        item('44030500001328000003', {}, false),
        item('44030500001328000004'),
      ].map((i) => [i.deviceId, i] as const),
    );
    const now = [
      item('44030500001328000001', {}, false),
      item('44030500001328000003'),
      item('44030500001328000004', { name: '北门' }),
      item('44030500001328000005'),
    ];
    expect(catalogChanges(before, now)).toEqual([
      { event: 'OFF', deviceId: '44030500001328000001' },
      { event: 'ON', deviceId: '44030500001328000003' },
      { event: 'UPDATE', item: now[2] },
      { event: 'ADD', item: now[3] },
      { event: 'DEL', deviceId: '44030500001328000002' },
    ]);
    expect(catalogChanges(new Map(now.map((i) => [i.deviceId, i])), now)).toEqual([]);
  });
});
