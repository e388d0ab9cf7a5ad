import type { CameraRecord } from '../domain/index.js';
import { allCameras, type CameraRegistry } from '../cameras/index.js';
import type { JurisdictionProfile } from '../config/index.js';
import { sharedSubStream } from '../onvif/index.js';
import { checkSite } from '../privacy/index.js';
import type { Store } from '../store/index.js';
import type { ReconcilerDeps } from './reconciler.js';

/** Where the reconciler reads the cameras: the store, the registry's events and credentials, the active profile. */
export function cameraSources(
  store: Pick<Store, 'cameras' | 'onvif'>,
  registry: Pick<CameraRegistry, 'on' | 'credentialsOf'>,
  profile: JurisdictionProfile,
): Pick<ReconcilerDeps, 'listCameras' | 'getCamera' | 'changes' | 'credentialsOf' | 'subStreamOf' | 'checkSite'> {
  return {
    listCameras: () => allCameras(store.cameras),
    getCamera: (cameraId) => store.cameras.get(cameraId),
    changes: registry,
    credentialsOf: (camera: CameraRecord) => registry.credentialsOf(camera),
    subStreamOf: async (camera) => sharedSubStream(camera, await store.onvif.get(camera.id)),
    checkSite: (siteType) => checkSite(profile, siteType),
  };
}
