import { userWithRole } from './accessSteps.js';
import type { GatewayProcess } from './gateway.js';

/** A change that weakens protection as the API lists it (four eyes). */
export interface PendingChangeBody {
  id: string;
  kind: string;
  subject: string;
  state: string;
  summary: string;
  current: unknown;
  proposed: unknown;
  proposedBy: { username: string };
  proposedAt: string;
}

const seconds = new WeakMap<GatewayProcess, Promise<string>>();

/** The session token of a second admin (`admin-b`), made once per gateway: the one who approves what `admin` proposes. */
export function secondAdmin(gw: GatewayProcess): Promise<string> {
  let token = seconds.get(gw);
  if (token === undefined) seconds.set(gw, (token = userWithRole(gw, 'admin-b', 'admin')));
  return token;
}

/**
 * A weakening change (masks removed or shrunk, a hold lifted) answers 202 with the pending
 * change; a second admin approves it here. Fails the test with the API's answer otherwise.
 */
export async function approvedBySecondAdmin(gw: GatewayProcess, proposed: { status: number; body: unknown }): Promise<PendingChangeBody> {
  if (proposed.status !== 202) throw new Error(`expected a pending change (202), got ${proposed.status}: ${JSON.stringify(proposed.body)}`);
  const { id } = proposed.body as PendingChangeBody;
  const res = await gw.api<PendingChangeBody>(
    'POST',
    `/api/v1/pending-changes/${id}/approve`,
    { reason: 'test: second admin' },
    await secondAdmin(gw),
  );
  if (res.status !== 200) throw new Error(`approving pending change ${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}
