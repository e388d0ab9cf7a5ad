/**
 * Requests from the public for footage (zhuzhou-2023 Art. 14: guardians and close relatives
 * of missing elderly, children or people with intellectual disabilities; yunnan-2016 Art. 16:
 * citizens defending their own lawful rights). Staff file them on the applicant's behalf; the
 * police decide; the result is recorded. Footage only ever leaves as an export under an
 * approved access request that a `release` decision names.
 */

/** Which rule the applicant invokes. */
export const PUBLIC_REQUEST_CATEGORIES = ['missing_person', 'own_rights'] as const;
export type PublicRequestCategory = (typeof PUBLIC_REQUEST_CATEGORIES)[number];

/** release: footage goes out as a watermarked export; refuse; refer: another authority handles it. */
export const PUBLIC_REQUEST_DECISIONS = ['release', 'refuse', 'refer'] as const;
export type PublicRequestDecision = (typeof PUBLIC_REQUEST_DECISIONS)[number];

/** What came of it: footage handed over (release only), applicant told what was found, nothing found, withdrawn. */
export const PUBLIC_REQUEST_RESULTS = ['handed_over', 'informed', 'nothing_found', 'withdrawn'] as const;
export type PublicRequestResult = (typeof PUBLIC_REQUEST_RESULTS)[number];

/** filed → decided → closed (result recorded). */
export const PUBLIC_REQUEST_STATES = ['filed', 'decided', 'closed'] as const;
export type PublicRequestState = (typeof PUBLIC_REQUEST_STATES)[number];

export interface PublicApplicant {
  name: string;
  /** Phone or address where the police reach the applicant. */
  contact: string;
  /** To the missing person (guardian, parent, child, …) or `self`. */
  relationship: string;
  /** The identity document shown (type and number). Never logged, never audited. */
  /**
   * The identity document shown. At rest `number` is masked and `sealed` holds the number
   * in an AES-256-GCM box; the API opens it only for those who handle the request.
   */
  idDocument: { type: string; number: string; sealed?: string };
}

/** The document as printed and shown to readers who check the process, not the person: type and last four characters. */
export function maskDocumentNumber(doc: { type: string; number: string }): string {
  return `${doc.type} ${maskNumber(doc.number)}`;
}

/** `****` and the last four characters (none of a number that short). */
export function maskNumber(number: string): string {
  return `****${number.length > 4 ? number.slice(-4) : ''}`;
}

export interface PublicRequest {
  id: string;
  category: PublicRequestCategory;
  applicant: PublicApplicant;
  reason: string;
  cameraIds: string[];
  /** The footage range asked for (ISO). */
  from: string;
  to: string;
  profile: string;
  state: PublicRequestState;
  filedBy: { userId: string; username: string };
  filedAt: string;
  decision: PublicRequestDecision | null;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  /** The approved export access request a `release` runs under. */
  accessRequestId: string | null;
  result: PublicRequestResult | null;
  resultNotes: string | null;
  resultBy: string | null;
  resultAt: string | null;
}
