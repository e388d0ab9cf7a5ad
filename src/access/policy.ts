/**
 * The one place that decides who may do what. Routes (through `permit`), the play tokens
 * the media server's hook checks, exports and public requests ask `decide`; none decides on
 * its own.
 */
import type { JurisdictionProfile } from '../config/index.js';
import type { AccessRequestKind, Principal, Role } from '../domain/index.js';

/** Every action the API and the media layer ask about (closed list: a new route adds its action here). */
export const ACTIONS = [
  'system.read',
  'cameras.read',
  'cameras.write',
  'masks.write',
  'diagnostics.read',
  'onvif.read',
  'onvif.onboard',
  'recordings.list',
  'recordings.delete',
  'recordings.clock',
  'holds.read',
  'holds.write',
  'verify',
  'incidents.read',
  'maintenance.read',
  'maintenance.write',
  'filings.read',
  'filings.write',
  'reports.read',
  'metrics.read',
  'users.manage',
  // One's own login session (logout, "who am I") and one's own API keys; someone else's keys are users.manage.
  'session.own',
  'apiKeys.manage',
  'requests.create',
  'requests.read',
  'requests.readAll',
  'requests.approve',
  'requests.reject',
  'requests.revoke',
  'register.read',
  'audit.read',
  // The compliance dossier handed to the filing police station (reports, register, verifications).
  'dossier.read',
  // Four eyes on changes that weaken protection: list them, decide them (a second admin), withdraw one's own.
  'changes.read',
  'changes.approve',
  'changes.reject',
  'changes.withdraw',
  // Public requests (zhuzhou-2023 Art. 14, yunnan-2016 Art. 16): intake by staff, decision and result by the police.
  'publicRequests.create',
  'publicRequests.read',
  'publicRequests.decide',
  'publicRequests.result',
  // GB/T 28181 upper platforms and their link state; adding or removing one (admin).
  'platforms.read',
  'platforms.write',
  // A demo camera fed by the built-in test source, and its outage on demand (admin, development mode).
  'demo.write',
  // Cluster nodes: cordon, drain, uncordon (admin).
  'nodes.write',
  // Footage.
  'live.shared',
  'live.raw',
  'recorded.view',
  'export',
] as const;
export type Action = (typeof ACTIONS)[number];

export const FOOTAGE_ACTIONS = ['live.raw', 'recorded.view', 'export'] as const satisfies readonly Action[];
export type FootageAction = (typeof FOOTAGE_ACTIONS)[number];

/** The request kind that covers each footage action. */
export const KIND_OF_ACTION: Readonly<Record<FootageAction, AccessRequestKind>> = {
  'live.raw': 'view_live_raw',
  'recorded.view': 'view_recorded',
  export: 'export',
};

/** What of an approved request the policy needs to see whether it covers an action. */
export interface CoveringCandidate {
  id: string;
  kind: AccessRequestKind;
  state: string;
  cameraIds: readonly string[];
  /** The footage range (ms). */
  fromMs: number;
  toMs: number;
  /** The window in which it may be used (ms): from approval until its expiry. */
  validFromMs: number | null;
  validUntilMs: number | null;
}

/** What a request to approve, reject or revoke needs to show for the four-eyes rule. */
export interface DecidedRequest {
  filedBy: { userId: string; username: string };
  staffCredentialNos: readonly string[];
}

export interface PolicyContext {
  profile: JurisdictionProfile;
  tier?: 'shared' | 'raw';
  cameraId?: string;
  /** The instant for live footage (ms; default now), or the footage range for recordings and exports. */
  atMs?: number;
  fromMs?: number;
  toMs?: number;
  /** The approved requests of the principal that might cover the action. */
  requests?: readonly CoveringCandidate[];
  /** apiKeys.manage: the username whose keys are made, listed or revoked (absent: the caller's own). */
  keyOwner?: string;
  /** The access request an approve/reject/revoke is about. */
  request?: DecidedRequest;
  /** Now (ms), for tests. */
  nowMs?: number;
}

/** `untilMs`: the end of the covering request's window, which no grant made under it may outlive. */
export type Decision =
  { allowed: true; exemption?: { article: string }; requestId?: string; untilMs?: number } | { allowed: false; reason: string };

/**
 * What each role may do outright (footage actions aside, which also need a request).
 *
 * - admin: all administration. Filing requests on behalf of a visiting officer, and
 *   deciding them when the unit has no separate approver, but never their own (four eyes).
 *   The admin is no exception for footage: the regulations name the *retriever* (调取人,
 *   hubei-2013 Art. 17(3), guangdong-2025 Art. 18(3)) and require approval for every
 *   retrieval, whoever runs the system; an admin who may watch raw footage unregistered
 *   is exactly the one shared secret this module replaces.
 * - maintainer: cameras, masks, diagnostics, ONVIF and maintenance; no footage at all
 *   (masks are drawn on coordinates; the shared tier shows their effect to an operator).
 * - operator (duty watch): the shared (masked) tier live, incidents and outages.
 * - police, agency: the shared tier live and requests; footage only under an approved request.
 *   The police also file, decide (not their own filing) and close public requests; an admin
 *   files them on an applicant's behalf at the unit's desk but does not decide them.
 * - approver: reads and decides requests; no footage (who approves does not also retrieve).
 * - auditor: the register, the audit chain, requests, reports and outages; no footage.
 */
const OWN_ACCOUNT: readonly Action[] = ['session.own', 'apiKeys.manage'];
/** Public requests: the police file, decide and close them; the auditor reads them (the admin holds all but deciding). */
const PUBLIC_REQUEST_GRANTS: Readonly<Partial<Record<Role, readonly Action[]>>> = {
  police: ['publicRequests.create', 'publicRequests.read', 'publicRequests.decide', 'publicRequests.result'],
  auditor: ['publicRequests.read'],
};

const ROLE_GRANTS: Readonly<Record<Role, readonly Action[]>> = {
  // Everything but footage under request (and the public metrics, which need no role).
  // Deciding a public request is the police's (zhuzhou-2023 Art. 14 ¶2: 公安机关 decides), not the admin's.
  admin: ACTIONS.filter((a) => !isFootage(a) && a !== 'metrics.read' && a !== 'publicRequests.decide'),
  maintainer: [
    'system.read',
    'cameras.read',
    'cameras.write',
    'masks.write',
    'diagnostics.read',
    'onvif.read',
    'onvif.onboard',
    'incidents.read',
    'maintenance.read',
    'maintenance.write',
    // A mask removal they propose waits for an admin; they see it and may withdraw it.
    'changes.read',
    'changes.withdraw',
    'platforms.read',
  ],
  operator: ['system.read', 'cameras.read', 'live.shared', 'incidents.read', 'maintenance.read'],
  // The recordings list is metadata: playing what it lists is recorded.view, under a request.
  police: ['system.read', 'cameras.read', 'live.shared', 'recordings.list', 'requests.create', 'requests.read', 'requests.revoke'],
  agency: ['system.read', 'cameras.read', 'live.shared', 'recordings.list', 'requests.create', 'requests.read', 'requests.revoke'],
  approver: ['system.read', 'cameras.read', 'requests.read', 'requests.readAll', 'requests.approve', 'requests.reject', 'requests.revoke'],
  auditor: [
    'system.read',
    'cameras.read',
    'holds.read',
    'verify',
    'incidents.read',
    'maintenance.read',
    'filings.read',
    'reports.read',
    'requests.read',
    'requests.readAll',
    'register.read',
    'audit.read',
    'dossier.read',
    'changes.read',
    'platforms.read',
  ],
};

/** Every role manages its own session and API keys; the public request grants join the table here. */
const GRANTS = Object.fromEntries(
  (Object.keys(ROLE_GRANTS) as Role[]).map((role) => [
    role,
    [...new Set([...ROLE_GRANTS[role], ...(PUBLIC_REQUEST_GRANTS[role] ?? []), ...OWN_ACCOUNT])],
  ]),
) as unknown as Readonly<Record<Role, readonly Action[]>>;

/** Roles that may retrieve footage under an approved request (maintainer, approver and auditor never). */
const RETRIEVERS: readonly Role[] = ['admin', 'operator', 'police', 'agency'];

/** Public on the API (no token): Prometheus scrapes them; they carry no video and no camera URL. */
const PUBLIC: readonly Action[] = ['metrics.read'];

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}

function isFootage(action: Action): action is FootageAction {
  return (FOOTAGE_ACTIONS as readonly string[]).includes(action);
}

/** Decides one action of one principal. Pure: everything it needs is in the context. */
export function decide(principal: Principal, action: Action, context: PolicyContext): Decision {
  if (PUBLIC.includes(action)) return { allowed: true };
  const tierMismatch = liveTierMismatch(action, context.tier);
  if (tierMismatch) return { allowed: false, reason: tierMismatch };
  if (isFootage(action)) return decideFootage(principal, action, context);
  // Someone else's API keys are user management.
  if (action === 'apiKeys.manage' && context.keyOwner !== undefined && context.keyOwner !== principal.username) {
    return decide(principal, 'users.manage', context);
  }
  const roles = principal.roles;
  if (!roles.some((r) => GRANTS[r].includes(action))) {
    const holders = (Object.keys(GRANTS) as Role[]).filter((r) => GRANTS[r].includes(action));
    return { allowed: false, reason: `${action} needs one of the roles ${holders.join(', ')}; ${who(principal)} has ${rolesText(roles)}.` };
  }
  if (context.request && (action === 'requests.approve' || action === 'requests.reject' || action === 'publicRequests.decide')) {
    const conflict = fourEyesConflict(principal, context.request);
    if (conflict) return { allowed: false, reason: conflict };
  }
  // A change that weakens protection is decided by the same four-eyes rule as an access request.
  if (context.request && (action === 'changes.approve' || action === 'changes.reject')) {
    const conflict = fourEyesConflict(principal, context.request);
    if (conflict) return { allowed: false, reason: `Four-eyes rule: a change that weakens protection needs a second admin. ${conflict}` };
  }
  if (action === 'requests.revoke' && context.request && !roles.some((r) => r === 'admin' || r === 'approver')) {
    // Police and agency staff may withdraw only a request they filed themselves.
    if (context.request.filedBy.userId !== principal.userId) {
      return { allowed: false, reason: `Only its filer, an approver or an admin may revoke a request; ${who(principal)} did not file it.` };
    }
  }
  return { allowed: true };
}

function decideFootage(principal: Principal, action: FootageAction, ctx: PolicyContext): Decision {
  if (!principal.roles.some((r) => RETRIEVERS.includes(r))) {
    return {
      allowed: false,
      reason: `${action}: footage is retrieved only by ${RETRIEVERS.join(', ')} under an approved request; ${who(principal)} has ${rolesText(principal.roles)}.`,
    };
  }
  const exempt = ctx.profile.viewWithoutApproval;
  if (action !== 'export' && principal.roles.some((r) => exempt.value.includes(r))) {
    return { allowed: true, exemption: { article: exempt.source } };
  }
  const covering = coveringAmong(ctx.requests ?? [], action, ctx);
  if (covering)
    return { allowed: true, requestId: covering.id, ...(covering.validUntilMs === null ? {} : { untilMs: covering.validUntilMs }) };
  const where = ctx.cameraId === undefined ? '' : ` for camera ${ctx.cameraId}`;
  return {
    allowed: false,
    reason: `${action}${where} needs an approved access request of kind ${KIND_OF_ACTION[action]} covering that camera and time (profile ${ctx.profile.name}); none of ${who(principal)} does.`,
  };
}

/** The first approved request, inside its window now, for this camera and the asked instant or range. */
export function coveringAmong(requests: readonly CoveringCandidate[], action: FootageAction, ctx: PolicyContext): CoveringCandidate | null {
  const now = ctx.nowMs ?? Date.now();
  const kind = KIND_OF_ACTION[action];
  // Live footage is "now" unless said otherwise; a recording or export range must lie inside the approved one.
  const from = ctx.fromMs ?? ctx.atMs ?? now;
  const to = ctx.toMs ?? ctx.atMs ?? now;
  return (
    requests.find(
      (r) =>
        r.state === 'approved' &&
        r.kind === kind &&
        (ctx.cameraId === undefined || r.cameraIds.includes(ctx.cameraId)) &&
        r.validFromMs !== null &&
        r.validFromMs <= now &&
        (r.validUntilMs === null || now < r.validUntilMs) &&
        r.fromMs <= from &&
        to <= r.toMs,
    ) ?? null
  );
}

/** The approver is neither the filer nor one of the staff (the regulations' two people). */
export function fourEyesConflict(principal: Principal, request: DecidedRequest): string | null {
  const why: string[] = [];
  if (request.filedBy.userId === principal.userId || request.filedBy.username === principal.username) {
    why.push(`${who(principal)} filed this request`);
  }
  if (principal.credentialNo !== undefined && request.staffCredentialNos.includes(principal.credentialNo)) {
    why.push(`${who(principal)} is one of its staff (same credential number)`);
  }
  return why.length === 0 ? null : `A request is decided by someone other than its filer and its staff: ${why.join(', and ')}.`;
}

function liveTierMismatch(action: Action, tier: 'shared' | 'raw' | undefined): string | null {
  if (tier === undefined) return null;
  if (action === 'live.shared' && tier !== 'shared') return 'live.shared covers only the shared tier; the raw tier is live.raw.';
  if (action === 'live.raw' && tier !== 'raw') return 'live.raw is the raw tier; the shared tier is live.shared.';
  return null;
}

function who(p: Principal): string {
  return `user ${p.username}`;
}

function rolesText(roles: readonly Role[]): string {
  return roles.length === 0 ? 'no role' : `role ${roles.join(', ')}`;
}
