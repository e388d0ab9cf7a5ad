/**
 * Changes that weaken protection (issue 12, four eyes): filed by one person, applied only
 * when a second admin approves. Shared by the store and the changes module.
 */

/** What a pending change does when approved. */
export const PENDING_CHANGE_KINDS = [
  'camera.masks',
  'hold.lift',
  'config.profile',
  'config.retention',
  'config.pushTarget',
  'platform.add',
  'camera.desensitize',
] as const;
export type PendingChangeKind = (typeof PENDING_CHANGE_KINDS)[number];

export const PENDING_CHANGE_STATES = ['pending', 'approved', 'rejected', 'withdrawn', 'expired', 'superseded'] as const;
export type PendingChangeState = (typeof PENDING_CHANGE_STATES)[number];

export interface PendingChange {
  id: string;
  kind: PendingChangeKind;
  /** What it changes: a camera id, a hold id, `default` or a camera id (retention), a target's digest. */
  subject: string;
  /** One line for people: what would change. */
  summary: string;
  /** The value in effect and the one proposed (JSON; push target URLs are redacted). */
  current: unknown;
  proposed: unknown;
  /** `config file` (user id `config-file`) for a weakening found in the config at start. */
  proposedBy: { userId: string; username: string };
  proposedAt: string;
  expiresAt: string;
  state: PendingChangeState;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
}
