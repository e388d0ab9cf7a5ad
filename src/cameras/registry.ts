/**
 * The camera registry: the one place cameras are created, changed and removed. Every
 * change is checked (input, site type, privacy guard, URL, optional probe), stored,
 * audited and announced, in that order. The change and its audit entries are one store
 * transaction: either both are stored or neither. A refused change leaves nothing behind
 * but, for a forbidden site, its audit entry.
 */
import type { Logger } from 'pino';
import { GatewayError, isGatewayError } from '../errors.js';
import { redactUrl } from '../log.js';
import type { CameraListQuery, Store, StoreTx } from '../store/index.js';
import {
  cameraCreateSchema,
  cameraPatchSchema,
  datesInOrder,
  parseCameraInput,
  validationFailed,
  type CameraCreateInput,
  type CameraPatchInput,
} from './cameraInput.js';
import type { CredentialBox } from './credentialBox.js';
import { gbIdPrefix, nextGbId, validateGbId, type GbIdPrefix } from './gbId.js';
import { normalizeRtspUrl } from './rtspUrl.js';
import { SafeEmitter } from '../events.js';
import {
  DEMO_SOURCE_URL,
  isDemoSource,
  SITE_TYPES,
  type AuditEntry,
  type CameraCredentials,
  type CameraRecord,
  type CameraView,
  type Mask,
} from '../domain/index.js';

/** What the privacy guard says about a site type (see privacy/siteGuard.ts). */
export interface SiteGuardVerdict {
  forbidden: boolean;
  siteType: string;
  citations: string[];
  message?: string;
}

export interface CameraRegistryDeps {
  store: Store;
  box: CredentialBox;
  siteGuard: (siteType: string) => SiteGuardVerdict;
  isSiteType: (siteType: string) => boolean;
  /** Prefix of generated IDs. */
  idParts: GbIdPrefix;
  /** Checks that the camera answers; throws (ideally a GatewayError) when it does not. */
  probe?: (url: string, creds: CameraCredentials | null) => Promise<unknown>;
  now?: () => Date;
  logger: Logger;
}

export interface CameraEvents extends Record<string, unknown[]> {
  created: [camera: CameraRecord];
  /** The record after the change, and before it. */
  updated: [camera: CameraRecord, previous: CameraRecord];
  removed: [camera: CameraRecord];
}

export interface CameraWriteOptions {
  /** Store without probing the camera (offline onboarding). */
  skipProbe?: boolean;
  /**
   * More writes that belong to a create (e.g. the ONVIF facts of an onboarded camera),
   * made in the same transaction after the camera and its audit entries: everything is
   * stored, or nothing. A throw rolls the whole create back and is passed on.
   */
  alongside?: (tx: StoreTx, camera: CameraRecord) => Promise<void>;
  /** A demo camera: its source is the built-in test source (DEMO_SOURCE_URL), never probed. */
  demo?: boolean;
}

/** Attempts at a generated ID before giving up when concurrent creates keep taking it. */
const ID_ATTEMPTS = 12;
/**
 * Serial reads are ordered across nodes by the store (maxSerial's lock), so a taken ID means
 * a writer that bypassed it (an explicit ID, an older gateway): a short random pause, then again.
 */
const idRetryPause = (attempt: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * 25 * attempt));

export class CameraRegistry {
  readonly #store: Store;
  readonly #box: CredentialBox;
  readonly #deps: CameraRegistryDeps;
  readonly #now: () => Date;
  readonly #log: Logger;
  readonly #events: SafeEmitter<CameraEvents>;
  readonly #idPrefix: string;
  #idTurn: Promise<unknown> = Promise.resolve();

  constructor(deps: CameraRegistryDeps) {
    this.#deps = deps;
    this.#store = deps.store;
    this.#box = deps.box;
    this.#now = deps.now ?? (() => new Date());
    this.#log = deps.logger.child({ component: 'cameras' });
    this.#events = new SafeEmitter<CameraEvents>(this.#log);
    const sample = nextGbId(deps.idParts, 0);
    const problem = validateGbId(sample);
    if (problem !== null) {
      throw new GatewayError('CONFIG_INVALID', `generated camera IDs would be invalid: ${problem}`, {
        hint: 'Set the camera ID prefix in the config: an 8-digit region code, 2-digit industry code, type code 131 or 132, and a 1-digit network code.',
      });
    }
    this.#idPrefix = gbIdPrefix(deps.idParts);
  }

  on<K extends keyof CameraEvents>(event: K, listener: (...args: CameraEvents[K]) => unknown): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof CameraEvents>(event: K, listener: (...args: CameraEvents[K]) => unknown): void {
    this.#events.off(event, listener);
  }

  /**
   * The checks a create makes before it touches the camera: fields, site type and the
   * privacy guard (a refusal is audited). Lets other ways in (ONVIF onboarding) refuse
   * early with exactly the same rules.
   */
  async vet(input: unknown, actor: string): Promise<CameraCreateInput> {
    const data = parseCameraInput(cameraCreateSchema, input, 'camera');
    this.#requireKnownSiteType(data.siteType);
    await this.#guard(data.siteType, actor, data.id ?? null, { operation: 'create', name: data.name });
    return data;
  }

  async create(input: unknown, actor: string, opts: CameraWriteOptions = {}): Promise<CameraView> {
    const data = await this.vet(input, actor);
    const explicit: Partial<CameraCredentials> = {};
    if (data.username !== undefined) explicit.username = data.username;
    if (data.password !== undefined) explicit.password = data.password;
    const { url, credentials } = opts.demo ? { url: DEMO_SOURCE_URL, credentials: null } : normalizeRtspUrl(data.rtspUrl, explicit);
    if (!opts.skipProbe && !opts.demo) await this.#probe(url, credentials, data.id ?? null);

    const at = this.#now().toISOString();
    const fields: Omit<CameraRecord, 'id'> = {
      name: data.name,
      rtspUrl: url,
      credentialsEnc: credentials === null ? null : this.#box.seal(credentials),
      siteType: data.siteType,
      address: data.address ?? null,
      lat: data.lat ?? null,
      lon: data.lon ?? null,
      ownerUnit: data.ownerUnit ?? null,
      governmentFunded: data.governmentFunded,
      signageInstalled: data.signageInstalled,
      commissionedAt: data.commissionedAt ?? null,
      removedAt: data.removedAt ?? null,
      enabled: data.enabled,
      pushTargets: data.pushTargets,
      masks: data.masks,
      masksVersion: data.masks.length > 0 ? 1 : 0,
      sharedEncoder: data.sharedEncoder,
      desensitize: data.desensitize,
      createdAt: at,
      updatedAt: at,
    };
    const record = await this.#insert(data.id, fields, async (tx, record) => {
      await this.#audit(tx, {
        actor,
        action: 'camera.create',
        cameraId: record.id,
        outcome: 'ok',
        details: { name: record.name, siteType: record.siteType },
      });
      if (record.masks.length > 0) await this.#auditMasks(tx, record.id, actor, [], record);
      await opts.alongside?.(tx, record);
    });
    if (record.masks.length > 0) this.#logMasks(record.id, actor, record);
    this.#log.info({ cameraId: record.id, siteType: record.siteType, url: redactUrl(url), actor }, 'camera created');
    this.#events.emit('created', record);
    return toView(record);
  }

  async update(id: string, patch: unknown, actor: string, opts: CameraWriteOptions = {}): Promise<CameraView> {
    const current = await this.getRecord(id);
    const p = parseCameraInput(cameraPatchSchema, patch, 'camera change');
    if (p.id !== undefined && p.id !== current.id) {
      throw validationFailed('id cannot be changed; remove the camera and create it again under the new id');
    }
    const merged: CameraRecord = {
      ...current,
      ...pick(p, ['name', 'siteType', 'governmentFunded', 'signageInstalled', 'enabled', 'pushTargets', 'sharedEncoder']),
      ...pickNullable(p, ['address', 'lat', 'lon', 'ownerUnit', 'commissionedAt', 'removedAt']),
    };
    if (p.desensitize !== undefined) merged.desensitize = p.desensitize;
    const masksChanged = p.masks !== undefined && JSON.stringify(p.masks) !== JSON.stringify(current.masks);
    if (masksChanged && p.masks !== undefined) {
      merged.masks = p.masks;
      merged.masksVersion = current.masksVersion + 1;
    }
    const dateProblem = datesInOrder(merged.commissionedAt, merged.removedAt);
    if (dateProblem !== null) throw validationFailed(`invalid camera change: removedAt ${dateProblem}`);
    if (!windsDown(p)) {
      this.#requireKnownSiteType(merged.siteType);
      await this.#guard(merged.siteType, actor, current.id, { operation: 'update', name: merged.name });
    }

    const touchesStream = p.rtspUrl !== undefined || p.username !== undefined || p.password !== undefined;
    if (touchesStream) {
      const { url, credentials } = this.#mergeStream(current, p);
      if (!opts.skipProbe) await this.#probe(url, credentials, current.id);
      merged.rtspUrl = url;
      merged.credentialsEnc = credentials === null ? null : this.#box.seal(credentials);
    }
    merged.updatedAt = this.#now().toISOString();

    const changed = Object.keys(p).filter((k) => k !== 'id' && k !== 'username' && k !== 'password');
    if (p.username !== undefined || p.password !== undefined) changed.push('credentials');
    // Encoder settings shape what the sharing platform receives: keep what they were and became.
    const encoderChange =
      p.sharedEncoder !== undefined && JSON.stringify(p.sharedEncoder) !== JSON.stringify(current.sharedEncoder)
        ? { sharedEncoder: { before: current.sharedEncoder, after: merged.sharedEncoder } }
        : {};
    // Desensitization decides whether faces reach the sharing platform: keep what it was and became.
    const desensitizeChange =
      p.desensitize !== undefined && JSON.stringify(p.desensitize) !== JSON.stringify(current.desensitize)
        ? { desensitize: { before: current.desensitize, after: merged.desensitize } }
        : {};
    // A relabelled site type changes which rules apply to the camera: keep what it was and became.
    const siteTypeChange = merged.siteType !== current.siteType ? { siteType: { before: current.siteType, after: merged.siteType } } : {};
    await this.#atomically('camera.update', current.id, async (tx) => {
      await tx.cameras.replace(merged);
      await this.#audit(tx, {
        actor,
        action: 'camera.update',
        cameraId: current.id,
        outcome: 'ok',
        details: { changed, ...encoderChange, ...siteTypeChange, ...desensitizeChange },
      });
      if (masksChanged) await this.#auditMasks(tx, current.id, actor, current.masks, merged);
    });
    if (masksChanged) this.#logMasks(current.id, actor, merged);
    this.#log.info({ cameraId: current.id, changed, url: redactUrl(merged.rtspUrl), actor }, 'camera updated');
    this.#events.emit('updated', merged, current);
    return toView(merged);
  }

  async remove(id: string, actor: string): Promise<void> {
    const current = await this.getRecord(id);
    await this.#atomically('camera.remove', id, async (tx) => {
      if (!(await tx.cameras.remove(id))) throw notFound(id);
      await this.#audit(tx, {
        actor,
        action: 'camera.remove',
        cameraId: id,
        outcome: 'ok',
        details: { name: current.name, siteType: current.siteType },
      });
    });
    this.#log.info({ cameraId: id, actor }, 'camera removed');
    this.#events.emit('removed', current);
  }

  async get(id: string): Promise<CameraView> {
    return toView(await this.getRecord(id));
  }

  async getRecord(id: string): Promise<CameraRecord> {
    const record = await this.#store.cameras.get(id);
    if (record === undefined) throw notFound(id);
    return record;
  }

  async list(query: CameraListQuery = {}): Promise<CameraView[]> {
    return (await this.#store.cameras.list(query)).map(toView);
  }

  async count(): Promise<number> {
    return this.#store.cameras.count();
  }

  /** The camera's credentials in clear, for the ingest only. Throws CONFIG_INVALID when the key no longer fits. */
  credentialsOf(record: CameraRecord): CameraCredentials | null {
    return record.credentialsEnc === null ? null : this.#box.open(record.credentialsEnc);
  }

  /** Drops every event listener. The registry holds no other resources. */
  close(): void {
    this.#events.removeAllListeners();
  }

  #requireKnownSiteType(siteType: string): void {
    if (this.#deps.isSiteType(siteType)) return;
    throw new GatewayError('VALIDATION_FAILED', `siteType "${siteType}" is not a known site type`, {
      hint: `Use one of: ${SITE_TYPES.join(', ')}.`,
      details: { problems: [`siteType "${siteType}" is not a known site type`], validSiteTypes: SITE_TYPES },
    });
  }

  async #guard(siteType: string, actor: string, cameraId: string | null, context: { operation: string; name: string }): Promise<void> {
    const verdict = this.#deps.siteGuard(siteType);
    if (!verdict.forbidden) return;
    const message = verdict.message ?? `cameras may not be installed at a site of type "${siteType}"`;
    const entry: AuditEntry = {
      at: this.#now().toISOString(),
      actor,
      action: 'camera.refused',
      cameraId,
      outcome: 'refused',
      details: { ...context, siteType: verdict.siteType, citations: verdict.citations, reason: message },
    };
    try {
      await this.#store.audit.append(entry);
    } catch (err) {
      this.#log.error({ cameraId, siteType, err }, 'could not record the refusal in the audit log');
    }
    this.#log.warn(
      { cameraId, siteType, actor, citations: verdict.citations, operation: context.operation },
      'camera refused: forbidden site type',
    );
    throw new GatewayError('PRIVACY_FORBIDDEN_SITE', message, {
      hint: 'This site type may not be monitored under the jurisdiction profile in use; see the cited provisions.',
      details: { siteType: verdict.siteType, citations: verdict.citations },
    });
  }

  async #probe(url: string, credentials: CameraCredentials | null, cameraId: string | null): Promise<void> {
    const probe = this.#deps.probe;
    if (probe === undefined) return;
    try {
      await probe(url, credentials);
    } catch (err) {
      this.#log.warn({ cameraId, url: redactUrl(url), code: isGatewayError(err) ? err.code : undefined }, 'camera probe failed');
      if (isGatewayError(err)) throw err;
      throw new GatewayError('CAMERA_UNREACHABLE', `probing ${redactUrl(url)} failed: ${scrub(err)}`, {
        hint: 'Check that the camera is on and reachable from the gateway and that the URL path is right, or store it without probing.',
        cause: err,
      });
    }
  }

  /** New URL and credentials: the patch's fields win, then user info in a new URL, then what was stored. */
  #mergeStream(current: CameraRecord, p: CameraPatchInput): { url: string; credentials: CameraCredentials | null } {
    const { url, credentials: fromUrl } = normalizeRtspUrl(p.rtspUrl ?? current.rtspUrl);
    const replacesBoth = p.username !== undefined && p.password !== undefined;
    const stored = replacesBoth ? null : this.credentialsOf(current);
    const field = (key: keyof CameraCredentials): string => {
      const patched = p[key];
      if (patched !== undefined) return patched ?? '';
      const inUrl = fromUrl?.[key];
      if (inUrl !== undefined && inUrl !== '') return inUrl;
      return stored?.[key] ?? '';
    };
    const username = field('username');
    const password = field('password');
    return { url, credentials: username === '' && password === '' ? null : { username, password } };
  }

  /** Inserts the camera and runs `rest` (its audit entries, …) in one transaction. */
  async #insert(
    explicitId: string | undefined,
    fields: Omit<CameraRecord, 'id'>,
    rest: (tx: StoreTx, record: CameraRecord) => Promise<void>,
  ): Promise<CameraRecord> {
    if (explicitId !== undefined) {
      const record = { id: explicitId, ...fields };
      return this.#atomically('camera.create', explicitId, async (tx) => {
        await tx.cameras.insert(record);
        await rest(tx, record);
        return record;
      });
    }
    // In-process creates take generated IDs one at a time; the store orders other processes' reads.
    const turn = this.#idTurn.then(() => this.#insertGenerated(fields, rest));
    this.#idTurn = turn.catch(() => undefined);
    return turn;
  }

  async #insertGenerated(
    fields: Omit<CameraRecord, 'id'>,
    rest: (tx: StoreTx, record: CameraRecord) => Promise<void>,
  ): Promise<CameraRecord> {
    for (let attempt = 1; ; attempt++) {
      try {
        // A taken ID ends the transaction (PostgreSQL aborts it); the next attempt starts a fresh one.
        return await this.#atomically('camera.create', null, async (tx) => {
          const record = { id: nextGbId(this.#deps.idParts, await tx.cameras.maxSerial(this.#idPrefix)), ...fields };
          await tx.cameras.insert(record);
          await rest(tx, record);
          return record;
        });
      } catch (err) {
        if (!(isGatewayError(err) && err.code === 'CAMERA_EXISTS') || attempt >= ID_ATTEMPTS) throw err;
        await idRetryPause(attempt);
      }
    }
  }

  /** Every change of a camera's masks is audited with what it was and what it became. */
  async #auditMasks(tx: StoreTx, cameraId: string, actor: string, before: Mask[], after: CameraRecord): Promise<void> {
    const details = { before, after: after.masks, version: after.masksVersion };
    await this.#audit(tx, { actor, action: 'camera.masks', cameraId, outcome: 'ok', details });
  }

  #logMasks(cameraId: string, actor: string, after: CameraRecord): void {
    this.#log.info({ cameraId, actor, masks: after.masks.length, version: after.masksVersion }, 'camera masks changed');
  }

  #audit(tx: StoreTx, entry: Omit<AuditEntry, 'at'>): Promise<void> {
    return tx.audit.append({ at: this.#now().toISOString(), ...entry });
  }

  /**
   * A camera change with its audit entries, as one transaction: when any write fails,
   * nothing of it is stored (no unaudited change remains) and the error is passed on.
   */
  async #atomically<T>(action: string, cameraId: string | null, work: (tx: StoreTx) => Promise<T>): Promise<T> {
    try {
      return await this.#store.transaction(work);
    } catch (err) {
      // Refusals (taken or unknown id) are the caller's to report; anything else is a store failure.
      if (!isGatewayError(err)) this.#log.error({ cameraId, action, err }, 'camera change not stored: the transaction was rolled back');
      throw err;
    }
  }
}

/** The record as shown to clients: no secret box, a flag instead. */
export function toView(record: CameraRecord): CameraView {
  const { credentialsEnc, ...rest } = record;
  return {
    ...rest,
    pushTargets: [...rest.pushTargets],
    masks: [...rest.masks],
    sharedEncoder: { ...rest.sharedEncoder },
    desensitize: rest.desensitize === null ? null : { ...rest.desensitize },
    hasCredentials: credentialsEnc !== null,
    demo: isDemoSource(rest.rtspUrl),
  };
}

/** A patch that only disables or retires a camera is never refused by the site checks. */
function windsDown(p: CameraPatchInput): boolean {
  const keys = Object.keys(p).filter((k) => (p as Record<string, unknown>)[k] !== undefined);
  return keys.length > 0 && keys.every((k) => k === 'enabled' || k === 'removedAt') && p.enabled !== true;
}

function notFound(id: string): GatewayError {
  return new GatewayError('CAMERA_NOT_FOUND', `no camera with id ${id}`, {
    hint: 'List the cameras to see their ids.',
    details: { id },
  });
}

function pick<K extends keyof CameraPatchInput & keyof CameraRecord>(
  p: CameraPatchInput,
  keys: readonly K[],
): Partial<Pick<CameraRecord, K>> {
  const out: Partial<Pick<CameraRecord, K>> = {};
  for (const key of keys) {
    const value = p[key];
    if (value !== undefined && value !== null) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Like pick, but an explicit null clears the field. */
function pickNullable<K extends keyof CameraPatchInput & keyof CameraRecord>(
  p: CameraPatchInput,
  keys: readonly K[],
): Partial<Pick<CameraRecord, K>> {
  const out: Partial<Pick<CameraRecord, K>> = {};
  for (const key of keys) {
    if (p[key] !== undefined) (out as Record<string, unknown>)[key] = p[key];
  }
  return out;
}

/** An error's message with any URL user info blanked, for errors from third-party probes. */
function scrub(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/\s@]*@/g, '$1***@');
}
