import type { PtzCapability } from './ptz.js';

/** What the gateway keeps about an onboarded ONVIF camera (table onvif_devices). */
export interface OnvifDeviceRecord {
  cameraId: string;
  endpointRef: string | null;
  xaddr: string;
  manufacturer: string | null;
  model: string | null;
  serialNumber: string | null;
  firmwareVersion: string | null;
  hardwareId: string | null;
  /** Profile recorded and ingested as the camera's main stream (the camera's rtspUrl). */
  recordProfileToken: string;
  recordStreamUrl: string;
  /** Profile that feeds the shared tier (often the sub stream); may equal the record profile. */
  sharedProfileToken: string;
  sharedStreamUrl: string;
  snapshotUrl: string | null;
  clockDriftSeconds: number;
  clockCheckedAt: string;
  onboardedAt: string;
  /** Last time a discovery sweep saw the device at `xaddr`; null until one does. */
  lastSeenAt: string | null;
  /** The PTZ capability read at onboarding; null for devices onboarded before it was read. */
  ptz: PtzCapability | null;
}
