/**
 * Where the API meets the four-eyes rule: a camera change that removes or shrinks masks,
 * and a hold lift, become pending changes instead of applying; approving one applies it.
 * The camera registry and the holds are taken by shape, so this module needs neither.
 */
import type { DesensitizeSetting, EvidenceHold, Mask, PendingChange, Principal } from '../domain/index.js';
import { desensitizeSchema, desensitizeWeakens, validateMasks } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import type { PendingChanges } from './pendingChanges.js';
import { masksWeaken, uncoveredMasks } from './weakening.js';

export interface MaskedCameras {
  get(id: string): Promise<{ id: string; masks: Mask[]; desensitize?: DesensitizeSetting | null }>;
  update(id: string, patch: unknown, actor: string, opts?: { skipProbe?: boolean }): Promise<unknown>;
}

export interface LiftableHolds {
  liftable(id: number, input: unknown): Promise<{ hold: EvidenceHold; reason: string }>;
  lift(id: number, input: unknown, actor: string): Promise<EvidenceHold>;
}

export class FourEyes {
  constructor(
    private readonly changes: PendingChanges,
    private readonly cameras: MaskedCameras,
    private readonly holds: LiftableHolds,
  ) {
    changes.onApprove('camera.masks', (change) => this.#applyMasks(change));
    changes.onApprove('hold.lift', (change) => this.#applyLift(change));
    changes.onApprove('camera.desensitize', (change) => this.#applyDesensitize(change));
  }

  /**
   * A camera change whose masks hide less than before is filed as pending (returned);
   * null: apply it as usual (no masks, or masks that hide at least as much).
   */
  async cameraPatch(principal: Principal, cameraId: string, body: unknown): Promise<PendingChange | null> {
    if (typeof body !== 'object' || body === null) return null;
    if ('desensitize' in body) {
      const pending = await this.#desensitizePatch(principal, cameraId, body);
      if (pending !== null) return pending;
    }
    if (!('masks' in body)) return null;
    const proposed = validateMasks(body.masks);
    const camera = await this.cameras.get(cameraId);
    if (!masksWeaken(camera.masks, proposed)) return null;
    const others = Object.keys(body).filter((k) => k !== 'masks');
    if (others.length > 0) {
      throw new GatewayError(
        'VALIDATION_FAILED',
        `This change removes or shrinks masks, which waits for a second admin; it cannot carry ${others.join(', ')} as well.`,
        {
          hint: 'Send the masks alone in one PATCH (it is filed as a pending change) and the other fields in another.',
        },
      );
    }
    const uncovered = uncoveredMasks(camera.masks, proposed);
    return this.changes.propose(principal, {
      kind: 'camera.masks',
      subject: cameraId,
      summary: `camera ${cameraId}: masks ${camera.masks.length} → ${proposed.length}, uncovering old mask${uncovered.length === 1 ? '' : 's'} ${uncovered.join(', ')}`,
      current: camera.masks,
      proposed,
      cameraId,
    });
  }

  /**
   * Turning desensitization off, or hiding less with it, is filed as pending; turning it on
   * or hiding more applies at once. An invalid setting is left to the registry to report.
   */
  async #desensitizePatch(principal: Principal, cameraId: string, body: object & { desensitize: unknown }): Promise<PendingChange | null> {
    const parsed = desensitizeSchema.nullable().safeParse(body.desensitize);
    if (!parsed.success) return null;
    const proposed = parsed.data;
    const camera = await this.cameras.get(cameraId);
    const current = camera.desensitize ?? null;
    if (!desensitizeWeakens(current, proposed)) return null;
    const others = Object.keys(body).filter((k) => k !== 'desensitize');
    if (others.length > 0) {
      throw new GatewayError(
        'VALIDATION_FAILED',
        `This change weakens desensitization, which waits for a second admin; it cannot carry ${others.join(', ')} as well.`,
        { hint: 'Send desensitize alone in one PATCH (it is filed as a pending change) and the other fields in another.' },
      );
    }
    return this.changes.propose(principal, {
      kind: 'camera.desensitize',
      subject: cameraId,
      summary: `camera ${cameraId}: desensitization ${describeDesensitize(current)} → ${describeDesensitize(proposed)}`,
      current,
      proposed,
      cameraId,
    });
  }

  /** A hold lift always weakens protection: filed as pending once the lift itself would be accepted. */
  async holdLift(principal: Principal, holdId: number, body: unknown): Promise<PendingChange> {
    const { hold, reason } = await this.holds.liftable(holdId, body);
    return this.changes.propose(principal, {
      kind: 'hold.lift',
      subject: String(holdId),
      summary: `lift evidence hold ${holdId} (${hold.cameraIds.join(', ')}): ${reason}`,
      current: { holdId, cameraIds: hold.cameraIds, reason: hold.reason, createdBy: hold.createdBy },
      proposed: { lifted: true, reason },
    });
  }

  /** Applies the proposed masks only over the masks it was proposed against: anything since would be dropped unseen. */
  async #applyMasks(change: PendingChange): Promise<void> {
    const camera = await this.cameras.get(change.subject);
    if (JSON.stringify(camera.masks) !== JSON.stringify(change.current)) {
      throw new GatewayError(
        'REQUEST_STATE',
        `The masks of camera ${change.subject} changed after this change was proposed; reject it and propose again.`,
      );
    }
    await this.cameras.update(change.subject, { masks: change.proposed }, change.proposedBy.username, { skipProbe: true });
  }

  /** Applies only over the setting it was proposed against, as masks are. */
  async #applyDesensitize(change: PendingChange): Promise<void> {
    const camera = await this.cameras.get(change.subject);
    if (JSON.stringify(camera.desensitize ?? null) !== JSON.stringify(change.current)) {
      throw new GatewayError(
        'REQUEST_STATE',
        `The desensitization of camera ${change.subject} changed after this change was proposed; reject it and propose again.`,
      );
    }
    await this.cameras.update(change.subject, { desensitize: change.proposed }, change.proposedBy.username, { skipProbe: true });
  }

  async #applyLift(change: PendingChange): Promise<void> {
    const reason = (change.proposed as { reason: string }).reason;
    await this.holds.lift(Number(change.subject), { reason }, change.proposedBy.username);
  }
}

function describeDesensitize(d: DesensitizeSetting | null): string {
  if (d === null) return 'off';
  const kinds = [d.faces ? 'faces' : '', d.plates ? 'plates' : ''].filter(Boolean).join('+');
  return `${kinds}${d.detectFps === undefined ? '' : ` at ${d.detectFps}/s`}${d.failMode === undefined ? '' : `, fails ${d.failMode}`}`;
}
