export { ExportService, type ExportRecord, type ExportServiceOptions, type NewExport, type RemoteSegments } from './exportService.js';
export {
  MANIFEST_FORMAT,
  manifestText,
  signManifest,
  signedPayload,
  type ExportManifest,
  type ManifestSegment,
  type ManifestSigner,
  type UnsignedManifest,
} from './manifest.js';
export {
  DEFAULT_WATERMARK_FONT,
  drawtextFilter,
  filterValue,
  requireWatermarkFont,
  watermarkText,
  type WatermarkFacts,
} from './watermark.js';
export {
  CLIP_ENCODE_ARGS,
  clipArgs,
  concatList,
  cutRange,
  segmentsCovering,
  sourceInputArgs,
  type ClipCommand,
  type CutRange,
} from './clipArgs.js';
export {
  checkExport,
  clipFacts,
  verifyExport,
  type ClipFacts,
  type ExportFinding,
  type ExportFindingKind,
  type ExportVerification,
} from './verify.js';
