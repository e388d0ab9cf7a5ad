/**
 * Turns the policy's decision on a footage action into what a play token carries: the
 * viewer, the request it runs under (null: the profile's exemption, which is audited here)
 * and the latest expiry (the request's window end). Routes that hand out play URLs use it.
 */
import type { Request, Response } from 'express';
import type { FootageAction, PolicyContext } from '../access/index.js';
import type { AuditEntry } from '../domain/index.js';
import type { PlayGrant } from '../media/index.js';
import { decideFor, principalOf } from './permit.js';

export type FootageGrant = { binding: NonNullable<PlayGrant['binding']>; notAfterSeconds?: number } | { refused: string };

export interface AuditSink {
  append(entry: AuditEntry): Promise<unknown>;
}

export async function footageGrant(
  req: Request<any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- any route's parameters
  res: Response,
  action: FootageAction,
  context: Omit<PolicyContext, 'profile' | 'requests'> & { cameraId: string },
  audit: AuditSink,
): Promise<FootageGrant> {
  const decision = await decideFor(req, res, action, context);
  if (!decision.allowed) return { refused: decision.reason };
  const principal = principalOf(res);
  if (decision.exemption !== undefined) {
    // The grant is audited here; the view itself is registered (with the article) when it is played.
    await audit.append({
      at: new Date().toISOString(),
      actor: principal.username,
      action: 'footage.exempt_view',
      cameraId: context.cameraId,
      outcome: 'ok',
      details: { footageAction: action, article: decision.exemption.article },
    });
  }
  return {
    binding: { userId: principal.userId, requestId: decision.requestId ?? null },
    ...(decision.untilMs === undefined ? {} : { notAfterSeconds: Math.floor(decision.untilMs / 1000) }),
  };
}
