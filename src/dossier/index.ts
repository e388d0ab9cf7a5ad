export { DOSSIER_PARTS, type DossierContext, type DossierPart, type PartOutput } from './parts.js';
export { buildDossier, verifyDossier, verifyDossierFile, writeFileAtomic, type BuildDossierInput } from './bundle.js';
export { dossierSource, type DossierRequest } from './source.js';
export {
  checkDossier,
  MANIFEST_FILE,
  SIGNATURE_FILE,
  PUBLIC_KEY_FILE,
  CHECKSUMS_FILE,
  type DossierIdentity,
  type DossierProblem,
  type DossierProblemKind,
  type DossierVerification,
  type Manifest,
} from './manifest.js';
export { readTar, writeTar, type TarEntry, type TarFile } from './tar.js';
export { cameraHours, type CameraHour } from './cameraHours.js';
