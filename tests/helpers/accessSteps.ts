import type { GatewayProcess } from './gateway.js';

/** Two staff members with credential numbers, as every profile but zhuzhou asks (none is a user below). */
export const STAFF = [
  { name: 'Zhang Wei', unit: 'Chengdong station', credentialNo: 'GA-7340101' },
  { name: 'Li Na', unit: 'Chengdong station', credentialNo: 'GA-7340102' },
];

/** Every document any profile asks for, so one request body passes every profile (strict included). */
export const DOCUMENTS = {
  workCertificate: 'WC-2026-0042',
  enforcementCertificate: 'EC-42-0193',
  approvalDocumentNo: 'PSB-2026-118',
  unitCertificate: 'UC-440300-77',
};

/** A password that passes the production policy too. */
export const PASSWORD = 'Corr3ct-horse-battery-staple';

async function ok<T>(what: string, answer: Promise<{ status: number; body: unknown }>, expected = 200): Promise<T> {
  const res = await answer;
  if (res.status !== expected) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body as T;
}

/** Creates a user with one role (as the admin) and logs them in; returns their session token. */
export async function userWithRole(gw: GatewayProcess, username: string, role: string): Promise<string> {
  await ok('user creation', gw.api('POST', '/api/v1/users', { username, password: PASSWORD, roles: [role] }), 201);
  const login = await ok<{ token: string }>('login', gw.api('POST', '/api/v1/auth/login', { username, password: PASSWORD }, null));
  return login.token;
}

/** Files an access request as `token`'s user; returns its id. */
export async function fileRequest(
  gw: GatewayProcess,
  token: string,
  kind: 'view_live_raw' | 'view_recorded' | 'export',
  cameraIds: string[],
  range: { from: Date; to: Date },
): Promise<string> {
  const body = {
    kind,
    cameraIds,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    purpose: 'theft case 2026-118',
    destination: 'viewed on site, nothing copied',
    staff: STAFF,
    documents: DOCUMENTS,
  };
  return (await ok<{ id: string }>('filing a request', gw.api('POST', '/api/v1/access-requests', body, token), 201)).id;
}

export async function decideRequest(gw: GatewayProcess, token: string, id: string, verb: 'approve' | 'reject' | 'revoke'): Promise<void> {
  await ok(`${verb} of request ${id}`, gw.api('POST', `/api/v1/access-requests/${id}/${verb}`, { reason: `test ${verb}` }, token));
}

let viewers = 0;

/**
 * A police officer with an approved request of `kind` for the cameras: live raw for the
 * next hour, or recordings of the last day. The raw tier and recordings are unmasked
 * footage, which not even the admin may watch without one. Returns the officer's session
 * token (for GET …/streams or …/recordings).
 */
export async function footageViewer(
  gw: GatewayProcess,
  cameraIds: string[],
  kind: 'view_live_raw' | 'view_recorded' = 'view_live_raw',
): Promise<string> {
  viewers += 1;
  const officer = await userWithRole(gw, `viewer-${viewers}`, 'police');
  const approver = await userWithRole(gw, `approver-${viewers}`, 'approver');
  const now = Date.now();
  const range =
    kind === 'view_live_raw'
      ? { from: new Date(now - 60_000), to: new Date(now + 3600_000) }
      : { from: new Date(now - 86_400_000), to: new Date(now + 3600_000) };
  const id = await fileRequest(gw, officer, kind, cameraIds, range);
  await decideRequest(gw, approver, id, 'approve');
  return officer;
}
