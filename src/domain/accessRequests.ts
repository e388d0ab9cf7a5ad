/** Access requests: a retrieval of footage asked for, decided by a second person, used within its window. */

export const ACCESS_REQUEST_KINDS = ['view_live_raw', 'view_recorded', 'export'] as const;
export type AccessRequestKind = (typeof ACCESS_REQUEST_KINDS)[number];

/** pending → approved | rejected; approved → revoked | expired. */
export const ACCESS_REQUEST_STATES = ['pending', 'approved', 'rejected', 'revoked', 'expired'] as const;
export type AccessRequestState = (typeof ACCESS_REQUEST_STATES)[number];

/** One of the (at least two) people who view, copy or retrieve. */
export interface AccessStaff {
  name: string;
  unit: string;
  credentialNo: string;
}

/** References of the documents shown (which are mandatory comes from the jurisdiction profile). */
export const ACCESS_DOCUMENT_FIELDS = ['workCertificate', 'enforcementCertificate', 'approvalDocumentNo', 'unitCertificate'] as const;
export type AccessDocumentField = (typeof ACCESS_DOCUMENT_FIELDS)[number];
export type AccessDocuments = Partial<Record<AccessDocumentField, string>>;

export interface AccessRequest {
  id: string;
  kind: AccessRequestKind;
  cameraIds: string[];
  /** The footage range asked for (ISO). */
  from: string;
  to: string;
  purpose: string;
  destination: string;
  staff: AccessStaff[];
  documents: AccessDocuments;
  /** The jurisdiction profile it was checked against. */
  profile: string;
  state: AccessRequestState;
  filedBy: { userId: string; username: string };
  filedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  /** The window it may be used in (ISO), set at approval. */
  validFrom: string | null;
  validUntil: string | null;
  revokedBy: string | null;
  revokedAt: string | null;
  revokeReason: string | null;
}
