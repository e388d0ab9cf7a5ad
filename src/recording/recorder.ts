import { mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { IncidentBoard } from '../health/index.js';
import type { Logger } from '../log.js';
import type { RecordingOutput } from '../pipeline/index.js';
import type { Store } from '../store/index.js';
import { DAMAGED, FENCED, SEGMENT_EXT, incomingDir, segmentRelPath } from './layout.js';
import type { EntryContent } from './chain.js';
import { FencedWriteError, type ChainLedger } from './ledger.js';
import type { RetentionRule } from './retention.js';
import { fsyncPath, probeSegment, sha256File } from './segmentFile.js';
import { SegmentListReader } from './segmentList.js';

export interface RecorderOptions {
  /** The recordings directory. */
  dir: string;
  segmentSeconds: number;
  ffprobePath: string;
  store: Store;
  ledger: ChainLedger;
  logger: Logger;
  /** How often finished segments are looked for. */
  pollMs?: number;
  /** Restarts a camera's ingest, so that its next run starts or stops recording. */
  restartIngest?: (cameraId: string) => void;
  /** Where a camera whose segments cannot be indexed is reported (`recording_failed`). */
  incidents?: IncidentBoard;
  /** The retention in force for a camera, written into each new segment's chain entry. */
  retention?: (cameraId: string) => RetentionRule;
  /** Injectable for tests: the wall clock, ms since the epoch. */
  clock?: () => number;
  /**
   * Tests only (crash tests): stop for good at this step of indexing the first segment,
   * after logging `recorder paused at step <step>`, so a test can kill the process there.
   */
  pauseAt?: SegmentStep;
}

/** The steps of indexing a segment, in order; each is durable once passed. */
export const SEGMENT_STEPS = ['fsync', 'hash', 'rename', 'indexed'] as const;
export type SegmentStep = (typeof SEGMENT_STEPS)[number];

/** `detail` of a chain entry indexed at start-up, for a segment whose writer died before indexing it. */
export const RECOVERED_DETAIL = { recovered: true } as const;

/** One ingest process's segment output. */
interface Run {
  cameraId: string;
  runId: string;
  /** ffmpeg's list of the run's finished segments, read as it grows. */
  list: SegmentListReader;
  processed: Set<string>;
  /** Wall-clock ms of the run's first timestamp: when its first segment was seen open. */
  anchorMs: number | null;
  firstStartS: number;
  /** Wall clock when each segment file was first seen in the incoming directory (it opens as ffmpeg starts writing it). */
  openedAt: Map<string, number>;
  /** Wall clock when the run was prepared (from the run id for a run left by an earlier process): no segment opens before it. */
  preparedMs: number;
  /** End of the last segment in ffmpeg's list, in seconds of the run's timeline: where a segment cut short begins. */
  listedEndS: number | null;
  lastEndMs: number | null;
  /** Set when the recording stopped for a reason of its own (disk full). */
  stopCause: string | null;
  finished: boolean;
  /** Left behind by an earlier process: its segments' entries are marked recovered. */
  recovered: boolean;
  /** A look at the run's list is queued. */
  looking: boolean;
}

interface CameraState {
  cameraId: string;
  run: Run | null;
  lastEndMs: number | null;
  gapOpen: boolean;
  /** Bytes per second of the last segment: the measured bitrate. */
  bytesPerSecond: number;
}

/** What the ingest's change of state means to the recorder. */
export interface IngestChange {
  cameraId: string;
  to: string;
  cause: string | null;
}

/**
 * Turns each ingest's segment output into indexed footage. ffmpeg writes segments into
 * `<camera>/.incoming/`; every finished one is checked with ffprobe, synced, hashed, moved
 * to its dated place and appended to the camera's hash chain. When an ingest run ends the
 * segment it was writing is indexed as partial, and a gap opens with the run's cause; the
 * next indexed segment closes it.
 */
export class Recorder {
  readonly #cameras = new Map<string, CameraState>();
  readonly #queues = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #diskFull = false;
  #runCounter = 0;
  #closed = false;

  constructor(private readonly opts: RecorderOptions) {}

  /**
   * Indexes what a previous process left behind, then watches for new segments: first
   * files already in their dated place that the index lacks (the process died between
   * the move and the index write), then the incoming directories. Both are entered in
   * the chain marked `recovered`; a file ffprobe cannot read is moved aside, never left.
   */
  async start(): Promise<void> {
    mkdirSync(this.opts.dir, { recursive: true });
    for (const cameraId of await readdir(this.opts.dir).catch(() => [] as string[])) {
      const info = await stat(join(this.opts.dir, cameraId)).catch(() => null);
      if (!info?.isDirectory()) continue;
      // Cluster mode with shared storage: another node's camera is left to it.
      if (!this.opts.ledger.mayWrite(cameraId)) continue;
      await this.recoverPlaced(cameraId);
      const names = await readdir(incomingDir(this.opts.dir, cameraId)).catch(() => [] as string[]);
      const runIds = new Set(
        names.map((n) => /^(r[\w-]+?)(?:-\d+\.ts|\.csv|\.anchor)$/.exec(n)?.[1]).filter((r): r is string => r !== undefined),
      );
      for (const runId of [...runIds].sort()) {
        this.state(cameraId);
        const run = { ...this.newRun(cameraId, runId), recovered: true };
        await this.enqueue(cameraId, () => this.finish(run, 'gateway_down'));
      }
    }
    this.#timer = setInterval(() => this.poll(), this.opts.pollMs ?? 1000);
    this.#timer.unref();
  }

  /** Called as each ingest run is prepared: where its segments go, or null while the disk is full. */
  prepareRun(cameraId: string): RecordingOutput | null {
    if (this.#closed) return null;
    const state = this.state(cameraId);
    if (this.#diskFull) {
      void this.enqueue(cameraId, () => this.openGap(cameraId, 'disk_full'));
      return null;
    }
    const run = this.newRun(cameraId, `r${this.now()}-${++this.#runCounter}`);
    const incoming = incomingDir(this.opts.dir, cameraId);
    mkdirSync(incoming, { recursive: true });
    state.run = run;
    return {
      pattern: join(incoming, `${run.runId}-%06d${SEGMENT_EXT}`),
      listFile: join(incoming, `${run.runId}.csv`),
      segmentSeconds: this.opts.segmentSeconds,
    };
  }

  /** The ingest left its run (died, stalled, stopped): index the partial segment and open a gap. */
  onIngestChange(change: IngestChange): void {
    if (change.to !== 'backoff' && change.to !== 'stopped') return;
    const run = this.#cameras.get(change.cameraId)?.run;
    if (!run || run.finished) return;
    void this.enqueue(change.cameraId, () => this.finish(run, change.cause ?? (change.to === 'stopped' ? 'stopped' : 'exited')));
  }

  /**
   * Disk full: every recording run is ended (its ingest restarted without a segment output)
   * and the gap gets cause `disk_full`. Room again: the ingests restart with recording.
   */
  setDiskFull(full: boolean): void {
    if (full === this.#diskFull) return;
    this.#diskFull = full;
    for (const [cameraId, state] of this.#cameras) {
      const recording = state.run !== null && !state.run.finished;
      if (full && state.run && recording) state.run.stopCause = 'disk_full';
      if (full === recording) this.opts.restartIngest?.(cameraId);
    }
  }

  /** Measured recording rate per camera, in bytes per second. */
  bytesPerSecond(): Map<string, number> {
    return new Map([...this.#cameras].map(([id, s]) => [id, s.bytesPerSecond]));
  }

  /** Waits for queued indexing; the pipelines must be closed first so their runs have ended. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await Promise.all([...this.#queues.values()]);
  }

  private newRun(cameraId: string, runId: string): Run {
    return {
      cameraId,
      runId,
      list: new SegmentListReader(join(incomingDir(this.opts.dir, cameraId), `${runId}.csv`)),
      processed: new Set(),
      anchorMs: null,
      firstStartS: 0,
      openedAt: new Map(),
      preparedMs: Number(/^r(\d+)-/.exec(runId)?.[1] ?? this.now()),
      listedEndS: null,
      lastEndMs: null,
      stopCause: null,
      finished: false,
      recovered: false,
      looking: false,
    };
  }

  private state(cameraId: string): CameraState {
    let state = this.#cameras.get(cameraId);
    if (!state) {
      state = { cameraId, run: null, lastEndMs: null, gapOpen: false, bytesPerSecond: 0 };
      this.#cameras.set(cameraId, state);
      // What the store knows from earlier runs: where the footage ends, whether a gap is open.
      void this.enqueue(cameraId, async () => {
        const s = this.state(cameraId);
        s.lastEndMs ??= (await this.opts.store.recordings.lastSegment(cameraId))?.endMs ?? null;
        s.gapOpen ||= (await this.opts.store.recordings.gaps(cameraId, 0, Number.MAX_SAFE_INTEGER)).some((g) => g.endMs === null);
      });
    }
    return state;
  }

  private poll(): void {
    for (const [cameraId, state] of this.#cameras) {
      const run = state.run;
      if (run && !run.finished) {
        void this.noteOpened(run);
        // One look queued at a time: while an index write waits (database unreachable), looks do not pile up.
        if (run.looking) continue;
        run.looking = true;
        void this.enqueue(cameraId, () => {
          run.looking = false;
          return this.indexListed(run);
        });
      }
    }
  }

  /** Resolves once everything queued for the camera so far is indexed (or refused). */
  async flush(cameraId: string): Promise<void> {
    await this.#queues.get(cameraId);
  }

  private enqueue(cameraId: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#queues.get(cameraId) ?? Promise.resolve();
    const next = previous.then(task).catch((err: unknown) => {
      if (err instanceof FencedWriteError) {
        this.opts.logger.warn({ cameraId }, 'recording: the lease fence refused the index write; the camera is recorded by its new owner');
        return;
      }
      this.opts.logger.error({ err, cameraId }, 'recording: indexing failed');
      this.opts.incidents?.fire({
        cameraId,
        kind: 'recording_failed',
        severity: 'critical',
        message: `segments cannot be indexed: ${err instanceof Error ? err.message : String(err)}`,
      });
    });
    this.#queues.set(cameraId, next);
    return next;
  }

  private now(): number {
    return (this.opts.clock ?? Date.now)();
  }

  /** What a new chain entry records of the retention in force (nothing when no policy is wired). */
  private retentionDetail(cameraId: string): Record<string, unknown> {
    const rule = this.opts.retention?.(cameraId);
    return rule === undefined ? {} : { retention: { ...rule } };
  }

  /**
   * Notes the wall clock at which each of the run's segment files first appears: ffmpeg
   * creates it when the segment opens, so this anchors the stream's own timestamps to the
   * wall clock (to within one poll), never the file's modification time.
   */
  private async noteOpened(run: Run): Promise<void> {
    // Only the first segment's opening anchors the run: once anchored, nothing more to note or keep.
    if (run.anchorMs !== null) return;
    const names = await readdir(incomingDir(this.opts.dir, run.cameraId)).catch(() => [] as string[]);
    if (run.anchorMs !== null) return;
    const now = this.now();
    const first = run.openedAt.size === 0;
    for (const name of names) if (name.startsWith(`${run.runId}-`) && !run.openedAt.has(name)) run.openedAt.set(name, now);
    // Kept beside the run's files, so that a restart after a crash anchors the run's leftovers the same way.
    if (first && run.openedAt.size > 0) await writeFile(this.anchorFile(run), String(now)).catch(() => undefined);
  }

  private anchorFile(run: Run): string {
    return join(incomingDir(this.opts.dir, run.cameraId), `${run.runId}.anchor`);
  }

  /**
   * Anchors the run's timeline (its first segment starts at `firstStartS` seconds) to the
   * wall clock when that segment was seen open: noted in this process, else as an earlier
   * process noted it, else when the run was prepared.
   */
  private async setAnchor(run: Run, firstName: string, firstStartS: number): Promise<number> {
    const saved = Number(await readFile(this.anchorFile(run), 'utf8').catch(() => ''));
    run.anchorMs = run.openedAt.get(firstName) ?? (Number.isFinite(saved) && saved > 0 ? saved : run.preparedMs);
    run.firstStartS = firstStartS;
    run.openedAt.clear();
    return run.anchorMs;
  }

  /** Segments ffmpeg has finished since the last look: the lines added to the run's list file. */
  private async indexListed(run: Run, final = false): Promise<void> {
    if (run.finished) return;
    const listed = await run.list.next(final);
    // The list's first line is the run's first segment, even when an earlier process already indexed and moved it.
    const first = listed[0];
    if (run.anchorMs === null && first !== undefined) await this.setAnchor(run, first.name, first.startS);
    for (const seg of listed) {
      run.listedEndS = Math.max(run.listedEndS ?? seg.endS, seg.endS);
      if (!run.processed.has(seg.name)) await this.indexSegment(run, seg.name, seg);
    }
  }

  private async finish(run: Run, cause: string): Promise<void> {
    if (run.finished) return;
    await this.indexListed(run, true);
    const incoming = incomingDir(this.opts.dir, run.cameraId);
    const leftovers = (await readdir(incoming).catch(() => [] as string[]))
      .filter((n) => n.startsWith(`${run.runId}-`) && n.endsWith(SEGMENT_EXT) && !run.processed.has(n))
      .sort();
    for (const name of leftovers) await this.indexSegment(run, name, null);
    run.finished = true;
    await rm(join(incoming, `${run.runId}.csv`), { force: true });
    await rm(this.anchorFile(run), { force: true });
    await this.openGap(run.cameraId, run.stopCause ?? cause);
  }

  private async openGap(cameraId: string, cause: string): Promise<void> {
    const state = this.state(cameraId);
    if (state.gapOpen || state.lastEndMs === null) return;
    await this.opts.store.recordings.openGap(cameraId, state.lastEndMs, cause);
    state.gapOpen = true;
    this.opts.logger.warn({ cameraId, cause, since: new Date(state.lastEndMs).toISOString() }, 'recording gap opened');
  }

  /**
   * One segment: `listed` carries ffmpeg's own start and end (seconds of the run's
   * timeline); null means a file cut short, measured with ffprobe.
   */
  private async indexSegment(run: Run, name: string, listed: { startS: number; endS: number } | null): Promise<void> {
    run.processed.add(name);
    const { cameraId } = run;
    const file = join(incomingDir(this.opts.dir, cameraId), name);
    const info = await stat(file).catch(() => null);
    if (!info) return;
    const probe = info.size > 0 ? await probeSegment(this.opts.ffprobePath, file, this.opts.logger) : null;
    if (!probe) {
      if (info.size === 0) await rm(file, { force: true });
      else await this.quarantine(cameraId, file, name);
      return;
    }
    const durationMs = Math.round(listed ? (listed.endS - listed.startS) * 1000 : probe.durationS * 1000);
    // The stream's own timestamps (ffmpeg's list) from the run's wall-clock anchor; a
    // segment cut short (not in the list) begins where the list's last segment ends.
    const anchorMs = run.anchorMs ?? (await this.setAnchor(run, name, listed?.startS ?? 0));
    const startS = listed?.startS ?? run.listedEndS ?? run.firstStartS;
    const startMs = Math.max(Math.round(anchorMs + (startS - run.firstStartS) * 1000), listed ? -Infinity : (run.lastEndMs ?? -Infinity));
    const endMs = startMs + durationMs;
    await fsyncPath(file);
    await this.pause('fsync');
    const sha256 = await sha256File(file);
    await this.pause('hash');
    const rel = segmentRelPath(cameraId, startMs);
    const dest = join(this.opts.dir, rel);
    await mkdir(dirname(dest), { recursive: true });
    await rename(file, dest);
    await fsyncPath(dirname(dest));
    await this.pause('rename');
    // A crash before this point leaves the file, never an entry without it; start() indexes such a file.
    const state = this.state(cameraId);
    await this.indexEntry(state, {
      kind: 'segment',
      path: rel,
      startMs,
      endMs,
      bytes: info.size,
      sha256,
      partial: listed === null,
      detail: { ...(run.recovered ? RECOVERED_DETAIL : {}), ...this.retentionDetail(cameraId) },
    });
    await this.pause('indexed');
    run.lastEndMs = endMs;
    state.lastEndMs = endMs;
    if (durationMs > 0) state.bytesPerSecond = info.size / (durationMs / 1000);
    this.opts.logger.debug({ cameraId, path: rel, bytes: info.size, partial: listed === null }, 'segment recorded');
    this.opts.incidents?.resolve(cameraId, 'recording_failed');
  }

  /** The segment's chain entry and the end of the gap it closes, as one store transaction. */
  private async indexEntry(state: CameraState, content: Omit<EntryContent, 'cameraId' | 'seq' | 'prevHash'>): Promise<void> {
    const { cameraId } = state;
    const closesGap = state.gapOpen;
    try {
      await this.opts.ledger.append(cameraId, content, async (tx) => {
        if (closesGap) await tx.recordings.closeGap(cameraId, content.startMs);
      });
    } catch (err) {
      // Refused by the lease fence: the file leaves the dated directories (which hold indexed footage only).
      if (err instanceof FencedWriteError) await this.setAsideFenced(cameraId, content.path);
      throw err;
    }
    if (closesGap) state.gapOpen = false;
  }

  private async setAsideFenced(cameraId: string, rel: string): Promise<void> {
    const dest = join(this.opts.dir, cameraId, FENCED, rel.split('/').join('_'));
    await mkdir(dirname(dest), { recursive: true });
    await rename(join(this.opts.dir, rel), dest).catch((err: unknown) =>
      this.opts.logger.error({ err, cameraId, path: rel }, 'recording: could not set a fenced segment aside'),
    );
  }

  /**
   * Segment files in the camera's dated directories that the index lacks: the process
   * died after moving them into place and before the index transaction. Each is checked
   * as a new segment would be and indexed, marked recovered, in time order.
   */
  private async recoverPlaced(cameraId: string): Promise<void> {
    // Segments are indexed one at a time per camera, so a file the index lacks can only
    // start at or after the camera's newest indexed segment: only those days are listed.
    // An older unindexed file is not taken in (it would break the chain's time order);
    // psvgw verify reports it.
    const last = await this.opts.store.recordings.lastSegment(cameraId);
    const sinceDay = last === undefined ? '' : new Date(last.startMs).toISOString().slice(0, 10);
    const cameraPath = join(this.opts.dir, cameraId);
    const days = (await readdir(cameraPath).catch(() => [] as string[])).filter((d) => /^\d{4}-\d\d-\d\d$/.test(d) && d >= sinceDay).sort();
    const candidates: string[] = [];
    for (const day of days) {
      for (const name of (await readdir(join(cameraPath, day)).catch(() => [] as string[])).sort()) {
        const startMs = startOfSegmentName(name);
        if (name.endsWith(SEGMENT_EXT) && (last === undefined || (startMs !== null && startMs >= last.startMs))) {
          candidates.push(join(cameraId, day, name));
        }
      }
    }
    if (candidates.length === 0) return;
    const known = new Set(
      (await this.opts.store.recordings.entries({ cameraId, kind: 'segment', ...(last ? { fromMs: last.startMs } : {}) })).map(
        (e) => e.path,
      ),
    );
    const orphans = candidates.filter((rel) => !known.has(rel));
    if (orphans.length === 0) return;
    this.state(cameraId);
    await this.enqueue(cameraId, async () => {
      for (const rel of orphans) await this.recoverFile(cameraId, rel);
    });
  }

  private async recoverFile(cameraId: string, rel: string): Promise<void> {
    const file = join(this.opts.dir, rel);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return;
    const probe = info.size > 0 ? await probeSegment(this.opts.ffprobePath, file, this.opts.logger) : null;
    if (!probe) {
      if (info.size === 0) await rm(file, { force: true });
      else await this.quarantine(cameraId, file, basename(file));
      return;
    }
    const durationMs = Math.round(probe.durationS * 1000);
    const startMs = startOfSegmentName(basename(file)) ?? Math.round(info.mtimeMs - durationMs);
    await fsyncPath(file);
    const sha256 = await sha256File(file);
    const state = this.state(cameraId);
    await this.indexEntry(state, {
      kind: 'segment',
      path: rel,
      startMs,
      endMs: startMs + durationMs,
      bytes: info.size,
      sha256,
      partial: false,
      detail: { ...RECOVERED_DETAIL, ...this.retentionDetail(cameraId) },
    });
    state.lastEndMs = Math.max(state.lastEndMs ?? 0, startMs + durationMs);
    this.opts.logger.warn(
      { cameraId, path: rel, bytes: info.size },
      'recording: segment left unindexed by an earlier process recovered into the index',
    );
  }

  /** Test hook (see RecorderOptions.pauseAt): never returns once the step is reached. */
  private async pause(step: SegmentStep): Promise<void> {
    if (this.opts.pauseAt !== step) return;
    this.opts.logger.warn({ step }, `recorder paused at step ${step}`);
    await new Promise<never>(() => undefined);
  }

  /** A non-empty file ffprobe cannot read is kept aside, never deleted: it may still be evidence. */
  private async quarantine(cameraId: string, file: string, name: string): Promise<void> {
    const dest = join(this.opts.dir, cameraId, DAMAGED, name);
    await mkdir(dirname(dest), { recursive: true });
    await rename(file, dest);
    this.opts.logger.error({ cameraId, file: dest }, 'recording: unreadable segment moved aside');
  }
}

/** Start time (ms) in a segment file name `<camera>_YYYYMMDDTHHMMSSmmmZ.ts` (see segmentRelPath), or null. */
function startOfSegmentName(name: string): number | null {
  const m = /_(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(\d{3})Z\.ts$/.exec(name);
  if (m === null) return null;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
  return Number.isFinite(ms) ? ms : null;
}
