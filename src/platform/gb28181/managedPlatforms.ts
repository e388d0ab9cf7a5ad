/**
 * GB/T 28181 upper platforms added through the API (the config file's stay as they are;
 * names are unique across both). A platform is validated, stored with its password sealed,
 * and linked once a second admin approves it: it sends the shared tier outside the unit,
 * which is what a new push target in the config file does, and that also waits for a
 * second admin in every profile. Removing one unregisters it (Expires 0) at once.
 */
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { parseCameraInput } from '../../cameras/index.js';
import { Gb28181PlatformEntry } from '../../config/index.js';
import type { PendingChange, Principal } from '../../domain/index.js';
import { GatewayError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { PlatformRecord, Store } from '../../store/index.js';
import type { Gb28181Service, PlatformLinkConfig, PlatformStatus } from './index.js';

/** What the API accepts: the config entry, with the password required and the domain tied to the server ID. */
const platformInput = Gb28181PlatformEntry.extend({
  password: z.string().min(1, "is required: the digest password the platform's operator gave").max(200),
}).superRefine((p, ctx) => {
  if (/^\d{20}$/.test(p.serverId) && /^\d{10}$/.test(p.serverDomain) && p.serverDomain !== p.serverId.slice(0, 10)) {
    ctx.addIssue({
      code: 'custom',
      path: ['serverDomain'],
      message: `must be the first 10 digits of serverId (${p.serverId.slice(0, 10)}), the domain the platform's ID was issued under`,
    });
  }
});

/** What a PATCH may change (narrowing the shared cameras, the keepalive interval). */
const platformPatch = Gb28181PlatformEntry.pick({ cameraIds: true, keepaliveSeconds: true }).partial().strict();

type PlatformSettings = Omit<PlatformLinkConfig, 'password'>;

/** What a PATCH changes: a stored platform whose values differ from its link's was changed through another node. */
const PATCHABLE = { cameraIds: true, keepaliveSeconds: true };

function pick(from: PlatformSettings, keys: object): Record<string, unknown> {
  return Object.fromEntries(Object.keys(keys).map((k) => [k, from[k as keyof PlatformSettings]]));
}

/** A stored platform still waiting for its approval, as the API lists it. */
export interface PendingPlatformStatus extends PlatformSettings {
  id: string;
  kind: 'gb28181';
  state: 'pending';
  registered: false;
  keepaliveMisses: 0;
  sessions: [];
  pendingChangeId: string | null;
  createdBy: string;
  createdAt: string;
}

export interface ManagedPlatformsDeps {
  store: Pick<Store, 'platforms' | 'audit'>;
  /** Seals the password at rest. */
  box: { seal(text: string): string; open(box: string): string };
  service: Gb28181Service;
  changes: {
    propose(
      proposer: { userId: string; username: string },
      p: { kind: 'platform.add'; subject: string; summary: string; current: unknown; proposed: unknown },
    ): Promise<PendingChange>;
    onApprove(kind: 'platform.add', applier: (change: PendingChange, approver: Principal) => Promise<void>): void;
    supersede(kind: 'platform.add', subject: string, by: string): Promise<void>;
  };
  /** IDs of the registered cameras, to refuse unknown ones. */
  cameraIds(): Promise<string[]>;
  /** Names of the config-file platforms (never removed or replaced through the API). */
  configNames: readonly string[];
  logger: Logger;
}

export class ManagedPlatforms {
  /** One change at a time: a name checked free must still be free when stored. */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ManagedPlatformsDeps) {
    deps.changes.onApprove('platform.add', (change, approver) => this.#approve(change, approver));
  }

  registerMetrics(registry: Registry): void {
    this.deps.service.registerMetrics(registry);
  }

  /** Links every approved platform in the store (at start). */
  async start(): Promise<void> {
    for (const r of await this.deps.store.platforms.list()) {
      if (r.state !== 'active') continue;
      if (this.deps.configNames.includes(r.id))
        throw new GatewayError('CONFIG_INVALID', `GB/T 28181 platform ${r.id} is both in the config file and added through the API`, {
          hint: 'Rename or remove the one in gb28181.platforms of the config file, or remove the API one (psvgw platforms remove).',
        });
      await this.deps.service.add(this.#config(r));
    }
  }

  /**
   * Cluster mode, on every heartbeat: the stored platforms approved, changed or removed
   * through another node reach this node's links (a removed one is unregistered by the node
   * running it), so every node can take over every platform.
   */
  sync(): Promise<void> {
    return this.#serially(async () => {
      const records = await this.deps.store.platforms.list();
      const stored = records.filter((r) => r.state === 'active' && !this.deps.configNames.includes(r.id));
      const linked = new Map(this.deps.service.list().map((s) => [s.id, s]));
      for (const r of stored) {
        const now = linked.get(r.id);
        const settings = r.settings as unknown as PlatformSettings;
        if (now !== undefined && JSON.stringify(pick(now, PATCHABLE)) === JSON.stringify(pick(settings, PATCHABLE))) continue;
        if (now !== undefined) await this.deps.service.remove(r.id);
        await this.deps.service.add(this.#config(r));
      }
      // Gone from the store: removed elsewhere (a pending record with a link here is being approved right now).
      for (const id of linked.keys())
        if (!this.deps.configNames.includes(id) && !records.some((r) => r.id === id)) await this.deps.service.remove(id);
    });
  }

  async list(): Promise<Array<PlatformStatus | PendingPlatformStatus>> {
    const pending = (await this.deps.store.platforms.list()).filter((r) => r.state === 'pending').map(pendingView);
    return [...this.deps.service.list(), ...pending];
  }

  async get(id: string): Promise<PlatformStatus | PendingPlatformStatus | undefined> {
    const live = this.deps.service.get(id);
    if (live !== undefined) return live;
    const r = await this.deps.store.platforms.get(id);
    return r?.state === 'pending' ? pendingView(r) : undefined;
  }

  /** Validates and stores a platform; it waits as a pending change for a second admin. */
  add(principal: Principal, body: unknown): Promise<{ platform: PendingPlatformStatus; change: PendingChange }> {
    return this.#serially(async () => {
      const input = parseCameraInput(platformInput, body, 'GB/T 28181 platform');
      const { password, ...settings } = input;
      await this.#checkName(settings.name);
      await this.#checkCameras(settings.cameraIds);
      const shared = settings.cameraIds === 'all' ? 'all cameras' : `${settings.cameraIds.length} camera(s)`;
      const change = await this.deps.changes.propose(principal, {
        kind: 'platform.add',
        subject: settings.name,
        summary: `new GB/T 28181 platform ${settings.name} (${settings.serverId} at ${settings.host}:${settings.port}/${settings.transport}) receiving ${shared}`,
        current: null,
        proposed: settings,
      });
      const record: PlatformRecord = {
        id: settings.name,
        settings: { ...settings },
        passwordBox: this.deps.box.seal(password),
        state: 'pending',
        pendingChangeId: change.id,
        createdBy: principal.username,
        createdAt: new Date().toISOString(),
      };
      await this.deps.store.platforms.insert(record);
      await this.#audit(principal.username, 'platform.add', settings.name, { ...settings, changeId: change.id });
      return { platform: pendingView(record), change };
    });
  }

  /**
   * Changes the keepalive interval or narrows the shared cameras of an approved API platform;
   * its link restarts with them. Sharing more cameras sends more outside: that is a new
   * platform, approved by a second admin (remove and add).
   */
  update(principal: Principal, id: string, body: unknown): Promise<PlatformStatus> {
    return this.#serially(async () => {
      const r = await this.#own(id);
      if (r.state !== 'active')
        throw new GatewayError('REQUEST_STATE', `platform ${id} still waits for its approval; it cannot be changed`, {
          hint: 'Remove it and add it again with the new settings.',
        });
      const patch = parseCameraInput(platformPatch, body, 'GB/T 28181 platform change');
      const current = r.settings as unknown as PlatformSettings;
      if (patch.cameraIds !== undefined) {
        await this.#checkCameras(patch.cameraIds);
        const before = current.cameraIds === 'all' ? null : new Set(current.cameraIds);
        const added =
          patch.cameraIds === 'all' ? (before === null ? [] : ['all']) : patch.cameraIds.filter((c) => before !== null && !before.has(c));
        if (added.length > 0)
          throw new GatewayError(
            'VALIDATION_FAILED',
            `sharing more cameras with platform ${id} (${added.join(', ')}) needs a second admin`,
            {
              hint: 'Remove the platform and add it again with the wider camera list; another admin approves it.',
            },
          );
      }
      const settings: PlatformSettings = { ...current, ...patch };
      await this.deps.service.remove(id);
      await this.deps.store.platforms.update(id, { settings: { ...settings } });
      const status = await this.deps.service.add(this.#config({ ...r, settings: { ...settings } }));
      await this.#audit(principal.username, 'platform.update', id, { from: pick(current, patch), to: patch });
      return status;
    });
  }

  /** Unregisters (Expires 0) and forgets an API platform; a pending one is withdrawn from its approval. */
  remove(principal: Principal, id: string): Promise<void> {
    return this.#serially(async () => {
      const r = await this.#own(id);
      await this.deps.service.remove(id);
      await this.deps.store.platforms.delete(id);
      if (r.state === 'pending') await this.deps.changes.supersede('platform.add', id, principal.username);
      await this.#audit(principal.username, 'platform.remove', id, { state: r.state });
    });
  }

  async #checkCameras(cameraIds: 'all' | readonly string[]): Promise<void> {
    if (cameraIds === 'all') return;
    const known = new Set(await this.deps.cameraIds());
    const unknown = cameraIds.filter((id) => !known.has(id));
    if (unknown.length > 0)
      throw new GatewayError('VALIDATION_FAILED', `invalid GB/T 28181 platform: cameraIds has unknown cameras ${unknown.join(', ')}`, {
        hint: 'GET /api/v1/cameras lists the camera IDs; or share "all".',
        details: { problems: [`cameraIds: unknown ${unknown.join(', ')}`] },
      });
  }

  async #own(id: string): Promise<PlatformRecord> {
    if (this.deps.configNames.includes(id))
      throw new GatewayError('REQUEST_STATE', `platform ${id} comes from the config file; the API cannot change or remove it`, {
        hint: 'Change it under gb28181.platforms in the config file and restart the gateway.',
      });
    const r = await this.deps.store.platforms.get(id);
    if (r === undefined) throw notFound(id);
    return r;
  }

  async #approve(change: PendingChange, approver: Principal): Promise<void> {
    const r = await this.deps.store.platforms.get(change.subject);
    if (r === undefined || r.state !== 'pending' || r.pendingChangeId !== change.id)
      throw new GatewayError('REQUEST_STATE', `platform ${change.subject} is no longer waiting for this change`, {
        hint: 'It was removed or added again; reject this change.',
      });
    await this.deps.service.add(this.#config(r));
    await this.deps.store.platforms.update(r.id, { state: 'active' });
    this.deps.logger.info({ platform: r.id, approvedBy: approver.username }, 'GB/T 28181 platform approved and linked');
  }

  async #checkName(name: string): Promise<void> {
    const where = this.deps.configNames.includes(name)
      ? 'in the config file'
      : (await this.deps.store.platforms.get(name)) !== undefined
        ? 'through the API'
        : null;
    if (where !== null)
      throw new GatewayError('PLATFORM_EXISTS', `a GB/T 28181 platform named ${name} already exists (${where})`, {
        hint: 'Pick another name, or remove the existing platform first (DELETE /api/v1/platforms/<name>).',
      });
  }

  #config(r: PlatformRecord): PlatformLinkConfig {
    return { ...(r.settings as unknown as PlatformSettings), password: this.deps.box.open(r.passwordBox) };
  }

  #audit(actor: string, action: string, platform: string, details: Record<string, unknown>): Promise<void> {
    return this.deps.store.audit.append({
      at: new Date().toISOString(),
      actor,
      action,
      cameraId: null,
      outcome: 'ok',
      details: { platform, ...details },
    });
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(work, work);
    this.#turn = run.catch(() => undefined);
    return run;
  }
}

function pendingView(r: PlatformRecord): PendingPlatformStatus {
  return {
    ...(r.settings as unknown as PlatformSettings),
    id: r.id,
    kind: 'gb28181',
    state: 'pending',
    registered: false,
    keepaliveMisses: 0,
    sessions: [],
    pendingChangeId: r.pendingChangeId,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
  };
}

function notFound(id: string): GatewayError {
  return new GatewayError('NOT_FOUND', `no platform ${id}`, {
    hint: 'List them with GET /api/v1/platforms (psvgw platforms list).',
  });
}
