/**
 * What an access request must contain, checked against the active jurisdiction profile.
 * Every problem is reported at once, each naming the field and the article that asks for it.
 */
import type { DocumentId, JurisdictionProfile } from '../config/index.js';
import {
  ACCESS_DOCUMENT_FIELDS,
  ACCESS_REQUEST_KINDS,
  type AccessDocumentField,
  type AccessDocuments,
  type AccessRequestKind,
  type AccessStaff,
  type Principal,
} from '../domain/index.js';
import { GatewayError } from '../errors.js';

/** The request body's document field that carries each document of the profiles. */
const FIELD_OF_DOCUMENT: Readonly<Record<Exclude<DocumentId, 'registration'>, AccessDocumentField>> = {
  work_id: 'workCertificate',
  enforcement_certificate: 'enforcementCertificate',
  police_approval: 'approvalDocumentNo',
  unit_certificate: 'unitCertificate',
};

/**
 * Every profile's sources that set a number ask for at least two; zhuzhou-2023 sets none
 * (Art. 13 ¶2 defers to law), and the gateway keeps two there as well: two identified
 * people is the baseline of every access (REQUIREMENTS principle 3).
 */
export const GATEWAY_MIN_STAFF = 2;
const MAX_STAFF = 10;
const MAX_CAMERAS = 64;
const MAX_TEXT = 500;

export interface AccessRequestInput {
  kind: AccessRequestKind;
  cameraIds: string[];
  fromMs: number;
  toMs: number;
  purpose: string;
  destination: string;
  staff: AccessStaff[];
  documents: AccessDocuments;
}

/** A field the profile asks for, missing from a request, and why. */
export interface MissingField {
  field: string;
  article: string;
}

/** Staff required, and the article saying so (or that the profile is silent). */
export function requiredStaff(profile: JurisdictionProfile): { count: number; article: string } {
  const rule = profile.minStaffForAccess;
  if (rule.value === null) {
    return { count: GATEWAY_MIN_STAFF, article: `${rule.source} sets no number; the gateway requires ${GATEWAY_MIN_STAFF}` };
  }
  return { count: Math.max(rule.value, GATEWAY_MIN_STAFF), article: rule.source };
}

/**
 * The documents a request must reference. `registration` (履行登记手续) is the register
 * the gateway keeps itself, so it asks nothing of the filer. Where the profile lets the
 * filer's role view without approval (guangdong-2025 Art. 23 ¶2), a view request needs none
 * of the alternative approval documents.
 */
export function requiredDocumentFields(
  profile: JurisdictionProfile,
  kind: AccessRequestKind,
  filer: Principal,
): { all: MissingField[]; anyOf: MissingField[] } {
  const rule = profile.requiredDocuments;
  const article = (id: DocumentId) => profile.documentSources[id] ?? rule.source;
  const asFields = (ids: readonly DocumentId[]) =>
    ids
      .filter((id): id is keyof typeof FIELD_OF_DOCUMENT => id !== 'registration')
      .map((id) => ({ field: FIELD_OF_DOCUMENT[id], article: article(id) }));
  const waived = kind !== 'export' && filer.roles.some((r) => profile.viewWithoutApproval.value.includes(r));
  return { all: asFields(rule.value), anyOf: waived ? [] : asFields(rule.anyOf) };
}

/** Parses and checks a request body; throws VALIDATION_FAILED naming every problem and its article. */
export function validateAccessRequest(body: unknown, profile: JurisdictionProfile, filer: Principal): AccessRequestInput {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const problems: string[] = [];
  const missing: MissingField[] = [];

  const kind = b.kind;
  if (typeof kind !== 'string' || !(ACCESS_REQUEST_KINDS as readonly string[]).includes(kind)) {
    problems.push(`kind must be one of ${ACCESS_REQUEST_KINDS.join(', ')}`);
  }
  const { cameraIds, fromMs, toMs } = camerasAndRange(b, problems);
  for (const field of ['purpose', 'destination'] as const) {
    if (!isText(b[field]))
      problems.push(`${field} must be a non-empty text of at most ${MAX_TEXT} characters (it goes into the access register)`);
  }

  const staffRule = requiredStaff(profile);
  const staff = parseStaff(b.staff);
  if (staff.problem) problems.push(staff.problem);
  if (staff.list.length < staffRule.count) {
    missing.push({ field: 'staff', article: staffRule.article });
    problems.push(
      `staff: ${staffRule.count} staff members, each with name, unit and credentialNo, are required (${staffRule.article}); got ${staff.list.length}`,
    );
  }

  const documents = parseDocuments(b.documents, problems);
  const required = requiredDocumentFields(profile, (kind as AccessRequestKind) ?? 'export', filer);
  for (const need of required.all) {
    if (documents[need.field as AccessDocumentField] === undefined) {
      missing.push({ field: `documents.${need.field}`, article: need.article });
      problems.push(`documents.${need.field} is required (${need.article})`);
    }
  }
  if (required.anyOf.length > 0 && !required.anyOf.some((n) => documents[n.field as AccessDocumentField] !== undefined)) {
    const fields = required.anyOf.map((n) => `documents.${n.field}`);
    const articles = [...new Set(required.anyOf.map((n) => n.article))].join(', ');
    missing.push({ field: fields.join(' | '), article: articles });
    problems.push(`one of ${fields.join(', ')} is required (${articles})`);
  }

  if (problems.length > 0) {
    throw new GatewayError('VALIDATION_FAILED', `The access request is incomplete under profile ${profile.name}: ${problems.join('; ')}.`, {
      hint: 'Add what is named and file the request again.',
      details: { missing, problems },
    });
  }
  return {
    kind: kind as AccessRequestKind,
    cameraIds,
    fromMs: fromMs as number,
    toMs: toMs as number,
    purpose: (b.purpose as string).trim(),
    destination: (b.destination as string).trim(),
    staff: staff.list,
    documents,
  };
}

function parseStaff(raw: unknown): { list: AccessStaff[]; problem?: string } {
  if (raw === undefined) return { list: [] };
  if (!Array.isArray(raw) || raw.length > MAX_STAFF) return { list: [], problem: `staff must be a list of at most ${MAX_STAFF} people` };
  const list: AccessStaff[] = [];
  const bad: number[] = [];
  for (const [i, s] of raw.entries()) {
    const p = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    if (isText(p.name) && isText(p.unit) && isText(p.credentialNo)) {
      list.push({ name: p.name.trim(), unit: p.unit.trim(), credentialNo: p.credentialNo.trim() });
    } else bad.push(i);
  }
  if (bad.length > 0) return { list, problem: `staff[${bad.join('], staff[')}] must each have a non-empty name, unit and credentialNo` };
  if (new Set(list.map((s) => s.credentialNo)).size < list.length) {
    return { list: dedupe(list), problem: 'staff must be different people: two entries share a credentialNo' };
  }
  return { list };
}

function dedupe(list: AccessStaff[]): AccessStaff[] {
  return [...new Map(list.map((s) => [s.credentialNo, s])).values()];
}

function parseDocuments(raw: unknown, problems: string[]): AccessDocuments {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`documents must be an object with any of ${ACCESS_DOCUMENT_FIELDS.join(', ')}`);
    return {};
  }
  const out: AccessDocuments = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(ACCESS_DOCUMENT_FIELDS as readonly string[]).includes(key)) {
      problems.push(`documents.${key} is not a known document (known: ${ACCESS_DOCUMENT_FIELDS.join(', ')})`);
    } else if (!isText(value)) {
      problems.push(`documents.${key} must be a non-empty reference text`);
    } else out[key as AccessDocumentField] = value.trim();
  }
  return out;
}

/**
 * The cameras and footage range every request names (an access request, a public request),
 * checked into `problems`: 1 to MAX_CAMERAS distinct ids, ISO times, `to` after `from`.
 */
export function camerasAndRange(
  b: Record<string, unknown>,
  problems: string[],
): { cameraIds: string[]; fromMs: number | null; toMs: number | null } {
  const ids = b.cameraIds;
  const camerasOk =
    Array.isArray(ids) && ids.length > 0 && ids.length <= MAX_CAMERAS && ids.every((c) => typeof c === 'string' && c.length > 0);
  if (!camerasOk) problems.push(`cameraIds must be a list of 1 to ${MAX_CAMERAS} camera ids`);
  const fromMs = timeOf(b.from);
  const toMs = timeOf(b.to);
  if (fromMs === null) problems.push('from must be an ISO 8601 time, e.g. 2026-05-01T08:00:00+08:00');
  if (toMs === null) problems.push('to must be an ISO 8601 time, e.g. 2026-05-01T09:00:00+08:00');
  if (fromMs !== null && toMs !== null && toMs <= fromMs) problems.push('to must be after from');
  return { cameraIds: camerasOk ? [...new Set(ids as string[])] : [], fromMs, toMs };
}

/** Shared with the public requests' checks. */
export function isText(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0 && v.length <= MAX_TEXT;
}

export function timeOf(v: unknown): number | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : null;
}
