import type { ChainEntry, EvidenceHold } from '../domain/index.js';
import { DAY_MS } from './layout.js';

/** Which setting gave a camera its retention. */
export type RetentionRuleKind = 'profile' | 'config' | 'perCamera' | 'fallback';

/**
 * The retention that applies to a camera's footage, as written into each segment's chain
 * entry (`detail.retention`): covered by the entry hash, so it cannot be shortened later.
 */
export interface RetentionRule {
  days: number;
  /** Jurisdiction profile in force when the rule was taken. */
  profile: string;
  rule: RetentionRuleKind;
  /** The article the profile cites for its minimum retention; null when the profile sets none. */
  article: string | null;
}

/** How long footage is kept: per camera, and for footage under an evidence hold. */
export interface RetentionPolicy {
  /** The rule for a camera's footage now (the profile minimum or the configured longer time). */
  rule(cameraId: string): RetentionRule;
  /** Days held footage is kept (the profile's long retention); null: until the hold is lifted. */
  holdRetentionDays: number | null;
}

export type RetentionVerdict = { deletable: true; days: number; keepUntilMs: number } | { deletable: false; reason: string };

/** Holds that cover a segment: same camera, overlapping time. Lifted holds no longer protect. */
export function holdsCovering(segment: ChainEntry, holds: readonly EvidenceHold[]): EvidenceHold[] {
  return holds.filter(
    (h) => h.liftedAt === null && h.cameraIds.includes(segment.cameraId) && h.startMs <= segment.endMs && h.endMs >= segment.startMs,
  );
}

/** The rule a segment was written under, when its entry records one. */
export function writtenRetention(segment: ChainEntry): RetentionRule | null {
  const r = segment.detail.retention as Partial<RetentionRule> | undefined;
  return r !== undefined && r !== null && typeof r.days === 'number' && Number.isFinite(r.days) ? (r as RetentionRule) : null;
}

/**
 * Days a segment is kept: the longer of the rule it was written under and today's policy,
 * so a later profile or config change can lengthen retention but never shorten it.
 * Segments indexed before entries recorded their rule have only today's policy.
 */
export function segmentRetentionDays(segment: ChainEntry, policy: RetentionPolicy): number {
  const now = policy.rule(segment.cameraId).days;
  const written = writtenRetention(segment)?.days;
  return written === undefined ? now : Math.max(written, now);
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
  const days = segmentRetentionDays(segment, policy);
  const keepUntilMs = segment.endMs + days * DAY_MS;
  if (nowMs < keepUntilMs)
    return { deletable: false, reason: `inside its ${days}-day retention until ${new Date(keepUntilMs).toISOString()}` };
  for (const hold of holdsCovering(segment, holds)) {
    if (policy.holdRetentionDays === null) return { deletable: false, reason: `under evidence hold ${hold.id} until it is lifted` };
    const heldUntil = Math.max(segment.endMs, Date.parse(hold.createdAt)) + policy.holdRetentionDays * DAY_MS;
    if (nowMs < heldUntil) return { deletable: false, reason: `under evidence hold ${hold.id} until ${new Date(heldUntil).toISOString()}` };
  }
  return { deletable: true, days, keepUntilMs };
}
