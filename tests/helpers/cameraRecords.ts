import type { CameraRecord } from '../../src/domain/index.js';

/** A stored camera record with plain defaults (no credentials, masks or pushes); `fields` override them. */
export function cameraRecord(id: string, fields: Partial<CameraRecord> = {}): CameraRecord {
  return {
    id,
    name: `camera ${id}`,
    rtspUrl: `rtsp://10.0.0.${id.length}/${id}`,
    credentialsEnc: null,
    siteType: 'school_gate',
    address: null,
    lat: null,
    lon: null,
    ownerUnit: null,
    governmentFunded: false,
    signageInstalled: false,
    commissionedAt: null,
    removedAt: null,
    enabled: true,
    pushTargets: [],
    masks: [],
    masksVersion: 0,
    sharedEncoder: {},
    desensitize: null,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    ...fields,
  };
}
