/** Who may do what: the roles of people and machines, and the identity a request carries. */

/**
 * Roles, from the regulations' division of duties: `admin` runs the gateway; `maintainer`
 * keeps cameras and masks (no footage); `operator` watches the shared tier on duty;
 * `police` and `agency` (other administrative departments) retrieve footage under approved
 * requests; `approver` decides requests; `auditor` reads the register and the audit chain
 * (no footage).
 */
export const ROLES = ['admin', 'maintainer', 'operator', 'police', 'agency', 'approver', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The authenticated caller of an API call or a playback: a person's session or a machine's API key. */
export interface Principal {
  kind: 'user' | 'apiKey';
  /** Stable user id (an API key acts for the user that owns it). */
  userId: string;
  username: string;
  roles: readonly Role[];
  /** The API key's id when `kind` is `apiKey`. */
  apiKeyId?: string;
  /** The person's credential number (police or staff ID), when the user record has one: an approver must not be one of a request's staff. */
  credentialNo?: string;
}
