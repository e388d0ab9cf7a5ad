import type { CameraRecord, CameraView } from '../domain/index.js';
import { redactPushTarget } from '../log.js';
import { validationFailed } from './cameraInput.js';

const REDACTED = '***';

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

/**
 * The camera as the API shows it: push targets with their stream keys, query and password
 * replaced by `***` (a stream key is a credential of the sharing platform).
 */
export function redactedView<T extends Pick<CameraView, 'pushTargets'>>(view: T): T {
  return { ...view, pushTargets: view.pushTargets.map(redactPushTarget) };
}

/**
 * A change's `pushTargets` with each redacted entry (one containing `***`, as read from
 * the API) replaced by the stored target it stands for: the n-th time a redacted form is
 * sent, the n-th stored target with that form. A client that reads a camera and writes it
 * back whole thus keeps the keys. A redacted entry that stands for nothing is refused.
 */
export function restoreRedactedTargets(sent: unknown, stored: readonly string[]): unknown {
  if (!Array.isArray(sent) || !sent.some((t) => typeof t === 'string' && t.includes(REDACTED))) return sent;
  // A stored target also sent in full is taken; the redacted entries stand for the others.
  const unused = stored.filter((s) => !sent.includes(s));
  return sent.map((target: unknown, i) => {
    if (typeof target !== 'string' || !target.includes(REDACTED)) return target;
    const match = unused.findIndex((s) => redactPushTarget(s) === target);
    if (match < 0) {
      throw validationFailed(
        `invalid camera change: pushTargets[${i}] is a redacted URL (${target}) that stands for no stored target of this camera; send the full URL with its stream key, or leave pushTargets out to keep them`,
      );
    }
    return unused.splice(match, 1)[0];
  });
}
