import { startCameraFleet as startFleet, type CameraFleet, type CameraFleetOptions } from '../../bench/cameraFleet.js';
import { FFMPEG_INSTALL_HINT, requireTool } from './media.js';
import { assertGstRtspAvailable } from './testCamera.js';

export { FLEET_FIXTURE, type CameraFleet, type CameraFleetOptions } from '../../bench/cameraFleet.js';

const fleets = new Set<CameraFleet>();

/**
 * Many cheap RTSP cameras in one GStreamer process: mounts `/cam1 … /camN` replaying
 * one pre-encoded H.264 loop (encoded once with ffmpeg and cached), no encoding per
 * camera or per client. `clientCount(mount)` says how many RTSP clients play a mount.
 * Fails naming the apt-get package when ffmpeg or GStreamer's RTSP server is missing.
 */
export async function startCameraFleet(options: CameraFleetOptions): Promise<CameraFleet> {
  requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
  assertGstRtspAvailable();
  const fleet = await startFleet(options);
  fleets.add(fleet);
  return fleet;
}

/** Stops every fleet still running; call from afterAll. */
export async function stopAllCameraFleets(): Promise<void> {
  await Promise.all([...fleets].map((f) => f.stop()));
  fleets.clear();
}
