import { GatewayError } from '../errors.js';
import type { EvidenceHold } from '../domain/index.js';
import type { Store } from '../store/index.js';

/** A time given as ISO-8601 or as milliseconds since the epoch; `name` is for the error. */
export function parseTime(raw: unknown, name: string): number {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (text === '' || !Number.isFinite(ms)) {
    throw new GatewayError('VALIDATION_FAILED', `"${name}" must be a time: ISO-8601 (2026-12-01T08:00:00Z) or milliseconds since 1970.`);
  }
  return ms;
}

/** A checked [from, to] range. */
export function parseRange(from: unknown, to: unknown): { fromMs: number; toMs: number } {
  const fromMs = parseTime(from, 'from');
  const toMs = parseTime(to, 'to');
  if (toMs < fromMs) throw new GatewayError('VALIDATION_FAILED', '"to" must not be before "from".');
  return { fromMs, toMs };
}

/**
 * A registered camera, or one removed whose recordings are still indexed: footage outlives
 * its camera's registration and stays evidence (held, listed) until its retention ends.
 */
export async function requireCameraOrFootage(store: Store, cameraId: string): Promise<void> {
  if ((await store.cameras.get(cameraId)) !== undefined) return;
  if ((await store.recordings.head(cameraId)) !== undefined) return;
  throw new GatewayError('CAMERA_NOT_FOUND', `no camera with id ${cameraId} and no recordings of one`, {
    hint: 'List the cameras to see their ids; a removed camera can be named while its recordings remain.',
    details: { id: cameraId },
  });
}

/**
 * Evidence holds (重要信息): footage of some cameras over a time range kept for the
 * profile's long retention. Placing and lifting are audited; a lifted hold stays listed
 * with who lifted it, when and why.
 */
export class EvidenceHolds {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  async create(input: unknown, actor: string): Promise<EvidenceHold> {
    const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
    const cameraIds = body.cameraIds;
    if (!Array.isArray(cameraIds) || cameraIds.length === 0 || !cameraIds.every((c) => typeof c === 'string' && c !== '')) {
      throw new GatewayError('VALIDATION_FAILED', '"cameraIds" must be a non-empty list of camera IDs.');
    }
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (reason.length < 3)
      throw new GatewayError('VALIDATION_FAILED', '"reason" must say why the footage is held (at least 3 characters).');
    const { fromMs, toMs } = parseRange(body.from, body.to);
    for (const id of cameraIds as string[]) await requireCameraOrFootage(this.store, id);
    const at = new Date(this.clock()).toISOString();
    const hold = await this.store.recordings.createHold({
      cameraIds: cameraIds as string[],
      startMs: fromMs,
      endMs: toMs,
      reason,
      createdBy: actor,
      createdAt: at,
    });
    await this.store.audit.append({ at, actor, action: 'hold.create', cameraId: null, outcome: 'ok', details: { ...view(hold) } });
    return hold;
  }

  list(): Promise<EvidenceHold[]> {
    return this.store.recordings.holds();
  }

  /** The hold and the reason a lift gives, or the error a lift would answer (checked before a lift is proposed, too). */
  async liftable(id: number, input: unknown): Promise<{ hold: EvidenceHold; reason: string }> {
    const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (reason.length < 3) throw new GatewayError('VALIDATION_FAILED', '"reason" must say why the hold is lifted (at least 3 characters).');
    const existing = (await this.store.recordings.holds()).find((h) => h.id === id);
    if (!existing) throw new GatewayError('NOT_FOUND', `no evidence hold with id ${id}`, { hint: 'GET /api/v1/holds lists them.' });
    if (existing.liftedAt !== null)
      throw new GatewayError('VALIDATION_FAILED', `evidence hold ${id} was already lifted at ${existing.liftedAt} by ${existing.liftedBy}`);
    return { hold: existing, reason };
  }

  async lift(id: number, input: unknown, actor: string): Promise<EvidenceHold> {
    const { hold: existing, reason } = await this.liftable(id, input);
    const at = new Date(this.clock()).toISOString();
    const lifted = (await this.store.recordings.liftHold(id, actor, at, reason)) ?? existing;
    await this.store.audit.append({ at, actor, action: 'hold.lift', cameraId: null, outcome: 'ok', details: { ...view(lifted) } });
    return lifted;
  }
}

/** A hold as the API shows it: times as ISO strings. */
export function view(h: EvidenceHold): Record<string, unknown> {
  const { startMs, endMs, ...rest } = h;
  return { ...rest, from: new Date(startMs).toISOString(), to: new Date(endMs).toISOString() };
}
