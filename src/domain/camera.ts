import type { SharedEncoderOverride } from './encoderSettings.js';
import type { DesensitizeSetting } from './desensitize.js';
import type { Mask } from './masks.js';

/** The camera as the registry keeps it. Credentials never leave the registry in clear. */
export interface CameraRecord {
  /** GB/T 28181 20-digit device ID. */
  id: string;
  name: string;
  /** RTSP URL without user info; credentials live encrypted in `credentialsEnc`. */
  rtspUrl: string;
  /** AES-256-GCM box of `{"username","password"}` (see cameras/credentialBox.ts), or null. */
  credentialsEnc: string | null;
  siteType: string;
  address: string | null;
  lat: number | null;
  lon: number | null;
  ownerUnit: string | null;
  governmentFunded: boolean;
  signageInstalled: boolean;
  /** ISO dates (YYYY-MM-DD). */
  commissionedAt: string | null;
  removedAt: string | null;
  /** Ingest runs only for enabled cameras. */
  enabled: boolean;
  /** RTMP/RTSP URLs the shared tier is pushed to, besides the config-wide defaults. */
  pushTargets: string[];
  /** Privacy masks burnt into the shared tier; empty: the shared tier is a copy of raw. */
  masks: Mask[];
  /** Bumped on every change of `masks` (names the mask images of each version). */
  masksVersion: number;
  /** This camera's shared-tier encoder settings over the gateway defaults ({}: defaults only). */
  sharedEncoder: SharedEncoderOverride;
  /** Faces/plates blurred on the shared tier as they move; null: off. */
  desensitize: DesensitizeSetting | null;
  createdAt: string;
  updatedAt: string;
}

/** What the API and CLI show: the record less the secret box, plus flags. */
export type CameraView = Omit<CameraRecord, 'credentialsEnc'> & {
  hasCredentials: boolean;
  /** A demo camera: fed by the built-in test source, left out of filing and compliance reports. */
  demo: boolean;
};

/** The source URL a demo camera stores in place of an RTSP URL: the ingest makes the picture itself. */
export const DEMO_SOURCE_URL = 'demo://testsrc2';

/** Whether a camera URL is the built-in test source, i.e. the camera is a demo. */
export function isDemoSource(url: string): boolean {
  return url === DEMO_SOURCE_URL;
}

export interface CameraCredentials {
  username: string;
  password: string;
}

export interface AuditEntry {
  id?: number;
  at: string;
  /** Who did it: 'admin', a user id, or 'system'. */
  actor: string;
  /** e.g. 'camera.create', 'camera.refused', 'camera.update', 'camera.remove'. */
  action: string;
  cameraId: string | null;
  outcome: 'ok' | 'refused' | 'error';
  details: Record<string, unknown>;
  /** Set by the store on append: the entry's place in the audit hash chain (1, 2, …). */
  seq?: number;
  /** Set by the store on append: the previous entry's `entryHash` (GENESIS for the first). */
  prevHash?: string;
  /** Set by the store on append: SHA-256 over the canonical JSON of the entry, `prevHash` included. */
  entryHash?: string;
}
