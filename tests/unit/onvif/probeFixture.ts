import type { DeviceProbe } from '../../../src/onvif/types.js';

/** What an authenticated probe of a one-profile H.264 camera finds. */
export const probeResult = (serial: string): DeviceProbe => ({
  xaddr: 'http://10.0.0.7/onvif/device_service',
  info: { manufacturer: 'SimVision', model: 'SV-1', serialNumber: serial, firmwareVersion: '1', hardwareId: '88' },
  clockDriftSeconds: 0,
  services: [],
  ptz: null,
  profiles: [
    {
      token: 'main',
      name: 'main',
      encoding: 'H264',
      width: 1920,
      height: 1080,
      fps: 25,
      bitrateKbps: 4096,
      streamUri: 'rtsp://10.0.0.7/ch1',
      snapshotUri: null,
    },
  ],
});
