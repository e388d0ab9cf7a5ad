/**
 * Weakening changes that come from the config file (a lower retention, another
 * jurisdiction profile, a new upstream push target). The store remembers the values last
 * approved; at start the config is compared with them. A weakening value is not applied:
 * the approved one stays in effect, the change is filed as pending (proposer `config
 * file`) and logged as a warning; once a second admin approves it, it applies at the next
 * start. Strengthening values apply at once and become the approved ones. The first start
 * of a data dir records the config's values as approved.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { getProfile, type GatewayConfig } from '../config/index.js';
import { redactPushTarget } from '../log.js';
import { retentionPolicy } from '../recording/index.js';
import type { Store } from '../store/index.js';
import { CONFIG_FILE_PROPOSER, type PendingChanges, type Proposal } from './pendingChanges.js';
import { newPushTargets, profileWeakens, retentionWeakens } from './weakening.js';

/** Settings key of the approved values (JSON of ApprovedConfig). */
export const APPROVED_CONFIG_SETTING = 'four_eyes_approved_config';

/** The subject of the retention every camera without its own gets. */
export const DEFAULT_RETENTION = 'default';

/** The values that only a second admin may weaken. Push targets by SHA-256: their URLs carry stream keys. */
export interface ApprovedConfig {
  profile: string;
  /** Days: `default`, and each camera with a retention of its own. */
  retention: Record<string, number>;
  pushTargets: string[];
}

export function pushTargetDigest(target: string): string {
  return createHash('sha256').update(target).digest('hex');
}

/** The protective values a config sets. */
export function approvedValuesOf(config: GatewayConfig): ApprovedConfig {
  const policy = retentionPolicy(config.recording, getProfile(config.profile));
  const retention: Record<string, number> = { [DEFAULT_RETENTION]: policy.rule(DEFAULT_RETENTION).days };
  for (const { cameraId } of config.recording.perCamera) retention[cameraId] = policy.rule(cameraId).days;
  return { profile: config.profile, retention, pushTargets: config.platform.pushTargets.map(pushTargetDigest) };
}

/** What to hold back and what to file, decided purely from the approved values and the config. */
export interface ConfigVerdict {
  /** The config to run with: approved values where the file weakens them. */
  effective: GatewayConfig;
  proposals: Proposal[];
  /** Kinds and subjects whose config value is no longer a weakening: a pending change for them is moot. */
  settled: Array<Pick<Proposal, 'kind' | 'subject'>>;
}

export function judgeConfig(approved: ApprovedConfig, config: GatewayConfig): ConfigVerdict {
  const proposed = approvedValuesOf(config);
  const proposals: Proposal[] = [];
  const settled: ConfigVerdict['settled'] = [];
  let effective: GatewayConfig = { ...config, recording: { ...config.recording, perCamera: [...config.recording.perCamera] } };

  if (profileWeakens(approved.profile, config.profile)) {
    proposals.push({
      kind: 'config.profile',
      subject: 'profile',
      summary: `jurisdiction profile ${approved.profile} → ${config.profile}`,
      current: approved.profile,
      proposed: config.profile,
    });
    effective = { ...effective, profile: approved.profile as GatewayConfig['profile'] };
  } else settled.push({ kind: 'config.profile', subject: 'profile' });

  const days = (values: ApprovedConfig, key: string) => values.retention[key] ?? values.retention[DEFAULT_RETENTION] ?? 0;
  for (const key of new Set([...Object.keys(approved.retention), ...Object.keys(proposed.retention)])) {
    const before = days(approved, key);
    const after = days(proposed, key);
    if (!retentionWeakens(before, after)) {
      settled.push({ kind: 'config.retention', subject: key });
      continue;
    }
    const what = key === DEFAULT_RETENTION ? 'retention' : `retention of camera ${key}`;
    proposals.push({
      kind: 'config.retention',
      subject: key,
      summary: `${what} ${before} → ${after} days`,
      current: before,
      proposed: after,
      cameraId: key === DEFAULT_RETENTION ? null : key,
    });
    if (key === DEFAULT_RETENTION) effective.recording.retentionDays = before;
    else
      effective.recording.perCamera = [
        ...effective.recording.perCamera.filter((p) => p.cameraId !== key),
        { cameraId: key, retentionDays: before },
      ];
  }

  const fresh = new Set(newPushTargets(approved.pushTargets, proposed.pushTargets));
  for (const target of config.platform.pushTargets) {
    const digest = pushTargetDigest(target);
    if (!fresh.has(digest)) continue;
    const shown = redactPushTarget(target);
    proposals.push({
      kind: 'config.pushTarget',
      subject: digest,
      summary: `new upstream push target ${shown}`,
      current: null,
      proposed: shown,
    });
  }
  for (const digest of approved.pushTargets) settled.push({ kind: 'config.pushTarget', subject: digest });
  effective = {
    ...effective,
    platform: { ...effective.platform, pushTargets: config.platform.pushTargets.filter((t) => !fresh.has(pushTargetDigest(t))) },
  };
  return { effective, proposals, settled };
}

/**
 * Runs at start, once the store is open: returns the config to run with, files each
 * weakening as pending, and stores the values now in effect as the approved ones.
 */
export async function guardConfig(config: GatewayConfig, store: Store, changes: PendingChanges, logger: Logger): Promise<GatewayConfig> {
  const stored = await store.settings.get(APPROVED_CONFIG_SETTING);
  const at = new Date().toISOString();
  if (stored === undefined) {
    const values = approvedValuesOf(config);
    await store.transaction(async (tx) => {
      await tx.settings.set(APPROVED_CONFIG_SETTING, JSON.stringify(values));
      await tx.audit.append({
        at,
        actor: CONFIG_FILE_PROPOSER.username,
        action: 'config.approved_values',
        cameraId: null,
        outcome: 'ok',
        details: { first: true, ...values },
      });
    });
    return config;
  }
  const approved = JSON.parse(stored) as ApprovedConfig;
  const verdict = judgeConfig(approved, config);
  for (const s of verdict.settled) await changes.supersede(s.kind, s.subject, CONFIG_FILE_PROPOSER.username);
  for (const p of verdict.proposals) {
    const change = await changes.propose(CONFIG_FILE_PROPOSER, p);
    logger.warn(
      { changeId: change.id, kind: p.kind, summary: p.summary },
      'the config weakens protection: the approved value stays in effect until a second admin approves the change (then at the next start)',
    );
  }
  const now = approvedValuesOf(verdict.effective);
  if (JSON.stringify(now) !== JSON.stringify(approved)) {
    await store.transaction(async (tx) => {
      await tx.settings.set(APPROVED_CONFIG_SETTING, JSON.stringify(now));
      await tx.audit.append({
        at,
        actor: CONFIG_FILE_PROPOSER.username,
        action: 'config.approved_values',
        cameraId: null,
        outcome: 'ok',
        details: { before: approved, after: now },
      });
    });
  }
  return verdict.effective;
}

/** Approving a config change makes its value the approved one; the gateway runs with it from the next start. */
export function registerConfigAppliers(changes: PendingChanges, store: Store): void {
  const update =
    (edit: (a: ApprovedConfig, proposed: unknown, subject: string) => void) => async (change: { proposed: unknown; subject: string }) => {
      await store.transaction(async (tx) => {
        const stored = await tx.settings.get(APPROVED_CONFIG_SETTING);
        if (stored === undefined) throw new Error('no approved config values are stored');
        const approved = JSON.parse(stored) as ApprovedConfig;
        edit(approved, change.proposed, change.subject);
        await tx.settings.set(APPROVED_CONFIG_SETTING, JSON.stringify(approved));
      });
    };
  changes.onApprove(
    'config.profile',
    update((a, p) => (a.profile = String(p))),
  );
  changes.onApprove(
    'config.retention',
    update((a, p, subject) => (a.retention[subject] = Number(p))),
  );
  changes.onApprove(
    'config.pushTarget',
    update((a, _p, subject) => void a.pushTargets.push(subject)),
  );
}
