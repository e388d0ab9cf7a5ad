import type { CameraRecord } from '../domain/index.js';

/** Every registered camera (removed ones included while their record is kept), read a page at a time. */
export async function allCameras(cameras: {
  list(query: { limit: number; offset: number }): Promise<CameraRecord[]>;
}): Promise<CameraRecord[]> {
  const all: CameraRecord[] = [];
  for (let offset = 0; ; offset += 1000) {
    const page = await cameras.list({ limit: 1000, offset });
    all.push(...page);
    if (page.length < 1000) return all;
  }
}
