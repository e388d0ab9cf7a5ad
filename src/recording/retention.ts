import type { ChainEntry, EvidenceHold } from '../domain/index.js';
import { DAY_MS } from './layout.js';

/** How long footage is kept: per camera, and for footage under an evidence hold. */
export interface RetentionPolicy {
  /** Days a camera's footage is kept (the profile minimum or the configured longer time). */
  retentionDays(cameraId: string): number;
  /** Days held footage is kept (the profile's long retention); null: until the hold is lifted. */
  holdRetentionDays: number | null;
}

export type RetentionVerdict = { deletable: true } | { deletable: false; reason: string };

/** Holds that cover a segment: same camera, overlapping time. Lifted holds no longer protect. */
export function holdsCovering(segment: ChainEntry, holds: readonly EvidenceHold[]): EvidenceHold[] {
  return holds.filter(
    (h) => h.liftedAt === null && h.cameraIds.includes(segment.cameraId) && h.startMs <= segment.endMs && h.endMs >= segment.startMs,
  );
}

/**
 * Whether a segment may be deleted at `nowMs`: only once its retention has passed and no
 * hold protects it any more. A hold protects for the long retention counted from the later
 * of the footage's end and the hold's creation.
 */
export function retentionVerdict(
  segment: ChainEntry,
  nowMs: number,
  policy: RetentionPolicy,
  holds: readonly EvidenceHold[],
): RetentionVerdict {
  const days = policy.retentionDays(segment.cameraId);
  const keepUntil = segment.endMs + days * DAY_MS;
  if (nowMs < keepUntil) return { deletable: false, reason: `inside its ${days}-day retention until ${new Date(keepUntil).toISOString()}` };
  for (const hold of holdsCovering(segment, holds)) {
    if (policy.holdRetentionDays === null) return { deletable: false, reason: `under evidence hold ${hold.id} until it is lifted` };
    const heldUntil = Math.max(segment.endMs, Date.parse(hold.createdAt)) + policy.holdRetentionDays * DAY_MS;
    if (nowMs < heldUntil) return { deletable: false, reason: `under evidence hold ${hold.id} until ${new Date(heldUntil).toISOString()}` };
  }
  return { deletable: true };
}
