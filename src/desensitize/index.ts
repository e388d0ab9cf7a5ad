export type {
  Desensitizer,
  DesensitizerHealth,
  DesensitizerOptions,
  Cascade,
  Detection,
  HiddenRegion,
  RegionKind,
  RegionSnapshot,
} from './types.js';
export {
  startDesensitizer,
  DEFAULT_TUNING,
  type DesensitizerTuning,
  type DesensitizerStats,
  type DesensitizerWithStats,
} from './desensitizer.js';
export { Tracker, DEFAULT_TRACKER_SETTINGS, iou, type TrackerSettings } from './tracker.js';
export {
  DetectorProcess,
  DETECTOR_INSTALL_HINT,
  DETECTOR_PYTHON,
  mergeOverlapping,
  type DetectResult,
  type GrayFrame,
} from './detectorProcess.js';
export { buildGrabberArgs, detectionSize } from './grabber.js';
export { CASCADE_FACE_REGION, toHiddenRegion, type BoxShares } from './faceRegion.js';
