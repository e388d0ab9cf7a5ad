import type { CameraRecord } from '../../../src/domain/index.js';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CameraEvents } from '../../../src/cameras/index.js';
import { SafeEmitter } from '../../../src/events.js';
import type { CameraSource } from '../../../src/pipeline/index.js';
import type { SiteVerdict } from '../../../src/privacy/siteGuard.js';
import { CameraReconciler, startReconciler, type ReconcilerDeps } from '../../../src/reconciler/index.js';
import { cameraRecord } from '../../helpers/cameraRecords.js';

const quiet = pino({ level: 'silent' });

const camera = cameraRecord;

/** The registry's events, the pipelines, the incidents and the diagnostics, as fakes that record what they were told. */
function setUp(opts: { cameras?: CameraRecord[]; forbidden?: string[]; owns?: ReconcilerDeps['owns']; incidents?: string[] } = {}) {
  const stored = new Map((opts.cameras ?? []).map((c) => [c.id, c]));
  const events = new SafeEmitter<CameraEvents>(quiet);
  const calls: string[] = [];
  const applied = new Map<string, CameraSource>();
  const running = new Set<string>();
  const open = new Set(opts.incidents ?? []);
  let releaseList: (() => void) | null = null;
  let hold = false;
  const deps: ReconcilerDeps = {
    listCameras: async () => {
      if (hold) await new Promise<void>((r) => (releaseList = r));
      return [...stored.values()];
    },
    getCamera: (id) => Promise.resolve(stored.get(id)),
    changes: events,
    credentialsOf: (c) => (c.credentialsEnc === null ? null : { username: 'u', password: 'p' }),
    subStreamOf: () => Promise.resolve(null),
    checkSite: (siteType): SiteVerdict =>
      (opts.forbidden ?? []).includes(siteType)
        ? { forbidden: true, siteType, citations: ['Art. 1'], message: `${siteType} is forbidden` }
        : { forbidden: false, siteType, citations: [] },
    pushTargets: ['rtmp://platform/live/x'],
    pipelines: {
      apply: (source) => {
        calls.push(`apply ${source.id}`);
        applied.set(source.id, source);
        running.add(source.id);
        return Promise.resolve();
      },
      refuse: (id, reason) => {
        calls.push(`refuse ${id}: ${reason}`);
        running.delete(id);
        return Promise.resolve();
      },
      remove: (id) => {
        calls.push(`remove ${id}`);
        running.delete(id);
        return Promise.resolve();
      },
    },
    incidents: {
      active: () => [...open].map((cameraId) => ({ cameraId })),
      resolveCamera: (id) => {
        calls.push(`resolve ${id}`);
        open.delete(id);
      },
    },
    diagnostics: {
      stopCamera: (id) => {
        calls.push(`stop diagnostics ${id}`);
        return Promise.resolve();
      },
      forgetCamera: (id) => {
        calls.push(`forget diagnostics ${id}`);
        return Promise.resolve();
      },
    },
    ...(opts.owns ? { owns: opts.owns } : {}),
    logger: quiet,
  };
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return {
    deps,
    events,
    calls,
    applied,
    running,
    open,
    stored,
    settle,
    holdList: () => (hold = true),
    releaseList: () => releaseList?.(),
  };
}

describe('CameraReconciler', () => {
  it('start-up sync: runs the cameras in service, stops the others and ends the incidents of cameras not running', async () => {
    const t = setUp({
      cameras: [camera('a', { credentialsEnc: 'sealed' }), camera('b', { enabled: false }), camera('c', { removedAt: '2026-02-01' })],
      incidents: ['a', 'b', 'c', 'gone'],
    });
    const reconciler = await startReconciler(t.deps);
    expect([...t.running]).toEqual(['a']);
    expect(t.applied.get('a')).toMatchObject({ sourceUrl: 'rtsp://u:p@10.0.0.1/a', pushTargets: ['rtmp://platform/live/x'] });
    expect(t.calls).toContain('stop diagnostics b');
    expect(t.calls).toContain('remove c');
    expect([...t.open]).toEqual(['a']);
    await reconciler.close();
  });

  it('start() resolves only once the start-up sync is done', async () => {
    const t = setUp({ cameras: [camera('a')] });
    t.holdList();
    const reconciler = new CameraReconciler(t.deps);
    let done = false;
    const started = reconciler.start().then(() => (done = true));
    await t.settle();
    expect(done).toBe(false);
    expect(t.running.size).toBe(0);
    t.releaseList();
    await started;
    expect([...t.running]).toEqual(['a']);
    await reconciler.close();
  });

  it('add, update and remove follow the registry', async () => {
    const t = setUp();
    const reconciler = await startReconciler(t.deps);
    const a = camera('a', { pushTargets: ['rtmp://platform/live/x', 'rtmp://other/live/a'] });
    t.events.emit('created', a);
    await t.settle();
    expect([...t.running]).toEqual(['a']);
    expect(t.applied.get('a')?.pushTargets).toEqual(['rtmp://platform/live/x', 'rtmp://other/live/a']);

    const masked = { ...a, masks: [{ kind: 'rect', x: 0, y: 0, w: 0.5, h: 0.5 }], masksVersion: 1 } as unknown as CameraRecord;
    t.events.emit('updated', masked, a);
    await t.settle();
    expect(t.applied.get('a')?.shared.version).toBe(1);

    t.open.add('a');
    const disabled = { ...masked, enabled: false };
    t.events.emit('updated', disabled, masked);
    await t.settle();
    expect(t.running.size).toBe(0);
    expect(t.open.has('a')).toBe(false);

    t.events.emit('updated', masked, disabled);
    await t.settle();
    t.open.add('a');
    t.events.emit('removed', masked);
    await t.settle();
    expect(t.calls.slice(-3)).toEqual(['forget diagnostics a', 'resolve a', 'remove a']);
    expect(t.running.size).toBe(0);
    expect(t.open.size).toBe(0);
    await reconciler.close();
  });

  it('refuses a camera whose site is forbidden under the active profile', async () => {
    const t = setUp({ cameras: [camera('a', { siteType: 'hotel_room' }), camera('b')], forbidden: ['hotel_room'] });
    const reconciler = await startReconciler(t.deps);
    expect(t.calls).toContain('refuse a: hotel_room is forbidden');
    expect([...t.running]).toEqual(['b']);
    // A running camera moved to a forbidden site stops.
    t.events.emit('updated', camera('b', { siteType: 'hotel_room' }), camera('b'));
    await t.settle();
    expect(t.running.size).toBe(0);
    await reconciler.close();
  });

  it('an owner rule that says "not mine": the camera is not started, and stops when it was running', async () => {
    const mine = new Set(['a', 'b']);
    const t = setUp({ cameras: [camera('a'), camera('b'), camera('c')], owns: (c) => mine.has(c.id), incidents: ['c'] });
    const reconciler = await startReconciler(t.deps);
    expect([...t.running].sort()).toEqual(['a', 'b']);
    expect(t.calls.some((c) => c.startsWith('apply c'))).toBe(false);
    expect(t.open.has('c')).toBe(false);
    mine.delete('b');
    await reconciler.refresh('b');
    expect([...t.running]).toEqual(['a']);
    expect(t.calls.slice(-2)).toEqual(['stop diagnostics b', 'remove b']);
    await reconciler.close();
  });

  it('after close() it no longer follows the registry; close is idempotent', async () => {
    const t = setUp();
    const reconciler = await startReconciler(t.deps);
    await Promise.all([reconciler.close(), reconciler.close()]);
    t.events.emit('created', camera('a'));
    await t.settle();
    expect(t.running.size).toBe(0);
    expect(t.events.listenerCount('created')).toBe(0);
  });
});
