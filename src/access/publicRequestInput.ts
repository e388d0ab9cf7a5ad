/**
 * What a public request, its decision and its result must contain. Pure: every problem is
 * reported at once, naming the field and how to fix it. The applicant's identity document
 * number is never echoed in a message (messages reach logs).
 */
import {
  PUBLIC_REQUEST_CATEGORIES,
  PUBLIC_REQUEST_DECISIONS,
  PUBLIC_REQUEST_RESULTS,
  type PublicApplicant,
  type PublicRequestCategory,
  type PublicRequestDecision,
  type PublicRequestResult,
} from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { camerasAndRange, isText } from './requests.js';

const MAX_TEXT = 500;

/** The rule each category invokes (printed in the report and the answer). */
export const CATEGORY_ARTICLES: Readonly<Record<PublicRequestCategory, string>> = {
  missing_person: 'zhuzhou-2023 Art. 14',
  own_rights: 'yunnan-2016 Art. 16 ¶3',
};

export interface PublicRequestInput {
  category: PublicRequestCategory;
  applicant: PublicApplicant;
  reason: string;
  cameraIds: string[];
  fromMs: number;
  toMs: number;
}

export interface DecisionInput {
  decision: PublicRequestDecision;
  reason: string;
  accessRequestId: string | null;
}

export interface ResultInput {
  result: PublicRequestResult;
  notes: string;
}

type Body = Record<string, unknown>;

function bodyOf(body: unknown): Body {
  return (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Body;
}

function refuse(what: string, problems: string[], hint: string): never {
  throw new GatewayError('VALIDATION_FAILED', `${what}: ${problems.join('; ')}.`, { hint, details: { problems } });
}

const textRule = (field: string) => `${field} must be a non-empty text of at most ${MAX_TEXT} characters`;

/** Parses an intake body; throws VALIDATION_FAILED naming every problem. */
export function validatePublicRequest(body: unknown): PublicRequestInput {
  const b = bodyOf(body);
  const problems: string[] = [];
  const category = b.category;
  if (typeof category !== 'string' || !(PUBLIC_REQUEST_CATEGORIES as readonly string[]).includes(category)) {
    problems.push(`category must be one of ${PUBLIC_REQUEST_CATEGORIES.map((c) => `${c} (${CATEGORY_ARTICLES[c]})`).join(', ')}`);
  }
  const a = bodyOf(b.applicant);
  for (const field of ['name', 'contact', 'relationship'] as const) {
    if (!isText(a[field])) problems.push(textRule(`applicant.${field}`));
  }
  const doc = bodyOf(a.idDocument);
  if (!isText(doc.type) || !isText(doc.number)) {
    problems.push(
      'applicant.idDocument must be {type, number} of the identity document shown (e.g. {"type": "resident_id", "number": "…"})',
    );
  }
  if (!isText(b.reason)) problems.push(`${textRule('reason')} (what happened, whom or what the footage should show)`);
  const { cameraIds, fromMs, toMs } = camerasAndRange(b, problems);
  if (problems.length > 0) refuse('The public request is incomplete', problems, 'Add what is named and file the request again.');
  const trim = (v: unknown) => (v as string).trim();
  return {
    category: category as PublicRequestCategory,
    applicant: {
      name: trim(a.name),
      contact: trim(a.contact),
      relationship: trim(a.relationship),
      idDocument: { type: trim(doc.type), number: trim(doc.number) },
    },
    reason: trim(b.reason),
    cameraIds,
    fromMs: fromMs as number,
    toMs: toMs as number,
  };
}

/** Parses a decision: `release` names the approved export access request it runs under; the others name none. */
export function validateDecision(body: unknown): DecisionInput {
  const b = bodyOf(body);
  const problems: string[] = [];
  const decision = b.decision;
  if (typeof decision !== 'string' || !(PUBLIC_REQUEST_DECISIONS as readonly string[]).includes(decision)) {
    problems.push(`decision must be one of ${PUBLIC_REQUEST_DECISIONS.join(', ')}`);
  }
  if (!isText(b.reason)) problems.push(`${textRule('reason')} (it is printed in the report)`);
  const id = b.accessRequestId;
  if (decision === 'release' && !isText(id)) {
    problems.push(
      'accessRequestId is required for release: footage leaves only as an export under an approved access request of kind export',
    );
  }
  if (decision !== 'release' && id !== undefined && id !== null) {
    problems.push(`accessRequestId goes only with decision release (got decision ${String(decision)})`);
  }
  if (problems.length > 0) refuse('The decision is incomplete', problems, 'Send {decision, reason, accessRequestId?} again.');
  return {
    decision: decision as PublicRequestDecision,
    reason: (b.reason as string).trim(),
    accessRequestId: decision === 'release' ? (id as string).trim() : null,
  };
}

/** Parses a result; `handed_over` only follows a release. */
export function validateResult(body: unknown, decision: PublicRequestDecision | null): ResultInput {
  const b = bodyOf(body);
  const problems: string[] = [];
  const result = b.result;
  if (typeof result !== 'string' || !(PUBLIC_REQUEST_RESULTS as readonly string[]).includes(result)) {
    problems.push(`result must be one of ${PUBLIC_REQUEST_RESULTS.join(', ')}`);
  }
  if (!isText(b.notes)) problems.push(`${textRule('notes')} (what the applicant was told or given)`);
  if (result === 'handed_over' && decision !== 'release') {
    problems.push(`result handed_over needs the decision release; this request was decided ${String(decision)}`);
  }
  if (problems.length > 0) refuse('The result is incomplete', problems, 'Send {result, notes} again.');
  return { result: result as PublicRequestResult, notes: (b.notes as string).trim() };
}
