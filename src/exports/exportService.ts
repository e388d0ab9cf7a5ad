/**
 * Export jobs: one at a time per gateway, in the order asked. A job cuts the approved range
 * from the recorded segments, burns in the watermark, writes the clip and its signed
 * manifest under temporary names and renames them only once the clip is verified, so a
 * failed job leaves nothing that looks complete. Jobs are persisted; a job found running
 * at start (the gateway died under it) is marked failed.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessRequest, ChainEntry, ExportJob, ExportJobState, Principal } from '../domain/index.js';
import type { Logger } from '../log.js';
import { sha256File } from '../recording/index.js';
import type { Store } from '../store/index.js';
import { clipArgs, concatList, cutRange, segmentsCovering } from './clipArgs.js';
import { manifestText, signManifest, MANIFEST_FORMAT, type ManifestSigner, type UnsignedManifest } from './manifest.js';
import { probeClip, runTool, type RunningChild } from './runFfmpeg.js';
import { DEFAULT_WATERMARK_FONT, drawtextFilter, requireWatermarkFont, watermarkText } from './watermark.js';

/** What the access register needs of a finished export (emitted once, on completion). */
export interface ExportRecord {
  jobId: string;
  requestId: string;
  userId: string;
  username: string;
  cameraId: string;
  from: string;
  to: string;
  bytes: number;
  clipSha256: string;
  at: string;
}

export interface ExportServiceOptions {
  store: Store;
  /** Where clips and manifests are written (`<dataDir>/exports`). */
  dir: string;
  recordingsDir: string;
  signer: ManifestSigner;
  ffmpegPath: string;
  ffprobePath: string;
  fontFile?: string;
  logger: Logger;
  /** Called once per finished export: the access register's hook. */
  onExported?: (record: ExportRecord) => unknown;
  /** Cluster mode: this node's name (it runs the exports it is asked for) and the segments other nodes hold. */
  cluster?: { node: string; segments: RemoteSegments };
}

/** Cluster mode: segments another node's disk holds, reached through that node. */
export interface RemoteSegments {
  /** Throws (RECORDING_UNREACHABLE) when a segment's node cannot be reached now. */
  requireReachable(cameraId: string, entries: readonly ChainEntry[]): Promise<void>;
  /** Copies a segment another node holds to `file`; false when it is on this disk. */
  copySegment(entry: ChainEntry, file: string): Promise<boolean>;
}

export interface NewExport {
  request: AccessRequest;
  cameraId: string;
  fromMs: number;
  toMs: number;
}

/** Progress is written to the store at most this often (the API reads it from there). */
const PROGRESS_WRITE_MS = 1000;

export class ExportService {
  readonly dir: string;
  readonly fontFile: string;
  readonly #opts: ExportServiceOptions;
  readonly #log: Logger;
  #running: Promise<void> | null = null;
  #child: RunningChild | null = null;
  #closed = false;

  constructor(opts: ExportServiceOptions) {
    this.#opts = opts;
    this.dir = opts.dir;
    this.fontFile = opts.fontFile ?? DEFAULT_WATERMARK_FONT;
    this.#log = opts.logger.child({ component: 'exports' });
  }

  /** Fails what a previous run left running, then works through what is queued. */
  async start(): Promise<this> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // Cluster mode: only this node's (another node's running job is running there).
    const node = this.#opts.cluster?.node;
    for (const job of await this.#opts.store.exportJobs.list({ state: 'running', ...(node === undefined ? {} : { runnableBy: node }) })) {
      this.#cleanUp(job.id);
      await this.#fail(job, 'running', 'the gateway stopped while this export ran; ask for it again');
    }
    this.#kick();
    return this;
  }

  /** Queues an export (the caller has checked the policy and the request). */
  async create(principal: Principal, e: NewExport): Promise<ExportJob> {
    requireWatermarkFont(this.fontFile);
    const cluster = this.#opts.cluster;
    if (cluster !== undefined) {
      // Footage on a node that is not alive: refused now (unreachable, not missing) rather than failed later.
      const entries = await this.#opts.store.recordings.entries({ cameraId: e.cameraId, kind: 'segment', fromMs: e.fromMs, toMs: e.toMs });
      await cluster.segments.requireReachable(e.cameraId, segmentsCovering(entries, e.fromMs, e.toMs));
    }
    const job: ExportJob = {
      id: randomUUID(),
      requestId: e.request.id,
      cameraId: e.cameraId,
      from: new Date(e.fromMs).toISOString(),
      to: new Date(e.toMs).toISOString(),
      userId: principal.userId,
      username: principal.username,
      state: 'queued',
      progress: 0,
      clip: null,
      manifest: null,
      clipBytes: null,
      clipSha256: null,
      error: null,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      // Run and kept by the node asked: its register entry is written there, and its clip downloads from there.
      ...(cluster === undefined ? {} : { node: cluster.node }),
    };
    await this.#opts.store.exportJobs.insert(job);
    await this.#audit(job, 'export.create', 'ok', {});
    this.#kick();
    return job;
  }

  get(id: string): Promise<ExportJob | undefined> {
    return this.#opts.store.exportJobs.get(id);
  }

  list(userId?: string): Promise<ExportJob[]> {
    return this.#opts.store.exportJobs.list(userId === undefined ? {} : { userId });
  }

  /** Absolute path of a finished job's clip or manifest. */
  fileOf(job: ExportJob, which: 'clip' | 'manifest'): string | null {
    const name = job[which];
    return name === null ? null : join(this.dir, name);
  }

  /** Waits for the current job; a job cut short by the stop is failed (and cleaned up). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#child?.kill();
    await this.#running;
  }

  #kick(): void {
    if (this.#running !== null || this.#closed) return;
    this.#running = this.#drain().finally(() => {
      this.#running = null;
    });
  }

  async #drain(): Promise<void> {
    while (!this.#closed) {
      const node = this.#opts.cluster?.node;
      const [next] = await this.#opts.store.exportJobs.list({
        state: 'queued',
        limit: 1,
        ...(node === undefined ? {} : { runnableBy: node }),
      });
      if (next === undefined) return;
      await this.#run(next).catch((err: unknown) => this.#log.error({ err, jobId: next.id }, 'export job bookkeeping failed'));
    }
  }

  async #run(queued: ExportJob): Promise<void> {
    const startedAt = new Date().toISOString();
    if (!(await this.#opts.store.exportJobs.update(queued.id, 'queued', { state: 'running', startedAt }))) return;
    const job: ExportJob = { ...queued, state: 'running', startedAt };
    try {
      const done = await this.#produce(job);
      await this.#opts.store.exportJobs.update(job.id, 'running', {
        ...done,
        state: 'done',
        progress: 1,
        finishedAt: new Date().toISOString(),
      });
      const finished = { ...job, ...done };
      await this.#audit(finished, 'export.complete', 'ok', { clip: done.clip, bytes: done.clipBytes, clipSha256: done.clipSha256 });
      await this.#register(finished);
    } catch (err) {
      this.#cleanUp(job.id);
      const why = this.#closed ? 'the gateway stopped while this export ran; ask for it again' : (err as Error).message;
      await this.#fail(job, 'running', why);
    }
  }

  /** Cuts, watermarks, verifies and signs; the two files appear only at the end. */
  async #produce(job: ExportJob): Promise<Required<Pick<ExportJob, 'clip' | 'manifest' | 'clipBytes' | 'clipSha256'>>> {
    const { store, recordingsDir, signer } = this.#opts;
    requireWatermarkFont(this.fontFile);
    const request = await store.accessRequests.get(job.requestId);
    if (request === undefined) throw new Error(`access request ${job.requestId} no longer exists`);
    const fromMs = Date.parse(job.from);
    const toMs = Date.parse(job.to);
    const entries = await store.recordings.entries({ cameraId: job.cameraId, kind: 'segment', fromMs, toMs });
    const segments = segmentsCovering(entries, fromMs, toMs);
    if (segments.length === 0) throw new Error(`nothing of camera ${job.cameraId} is recorded between ${job.from} and ${job.to}`);
    const work = this.#workDir(job.id);
    mkdirSync(work, { recursive: true, mode: 0o700 });
    // Segments another node holds are copied here through it first (cluster mode).
    const files = new Map<number, string>();
    for (const s of segments) {
      const copy = join(work, `segment-${s.seq}.ts`);
      files.set(s.seq, (await this.#opts.cluster?.segments.copySegment(s, copy)) === true ? copy : join(recordingsDir, s.path));
    }
    const fileOf = (s: ChainEntry) => files.get(s.seq) as string;
    // A segment changed on disk since it was chained must not be exported as if it were the recording.
    for (const s of segments) {
      const actual = await sha256File(fileOf(s));
      if (actual !== s.sha256) throw new Error(`segment ${s.path} (chain seq ${s.seq}) changed since it was recorded; run psvgw verify`);
    }
    const exportedAt = new Date().toISOString();
    const text = watermarkText({ requestId: request.id, staffNames: request.staff.map((s) => s.name), exportedAt });
    const listFile = join(work, 'segments.txt');
    const textFile = join(work, 'watermark.txt');
    const partial = join(work, 'clip.mp4.part');
    writeFileSync(listFile, concatList(segments.map(fileOf)));
    writeFileSync(textFile, text);
    const cut = cutRange(segments, fromMs, toMs);
    if (cut.durationSeconds <= 0) throw new Error(`the recordings of camera ${job.cameraId} do not reach into ${job.from}–${job.to}`);

    let lastWrite = 0;
    this.#child = runTool(
      this.#opts.ffmpegPath,
      clipArgs({ listFile, cut, filter: drawtextFilter({ fontFile: this.fontFile, textFile }), output: partial }),
      {
        onProgress: (sample) => {
          if (sample.outTimeUs === null || Date.now() - lastWrite < PROGRESS_WRITE_MS) return;
          lastWrite = Date.now();
          const progress = Math.min(0.99, sample.outTimeUs / 1e6 / cut.durationSeconds);
          void store.exportJobs.update(job.id, 'running', { progress }).catch(() => undefined);
        },
      },
    );
    try {
      await this.#child.done;
    } finally {
      this.#child = null;
    }
    // Verified before it gets its final name: an H.264 stream of about the asked length.
    const probe = await probeClip(this.#opts.ffprobePath, partial);
    if (probe.codec !== 'h264' || !(probe.durationSeconds > 0)) {
      throw new Error(`the encoded clip is not usable (codec ${probe.codec}, ${probe.durationSeconds} s)`);
    }
    const clip = `${job.id}.mp4`;
    const manifestName = `${job.id}.manifest.json`;
    const clipBytes = statSync(partial).size;
    const clipSha256 = await sha256File(partial);
    const unsigned: UnsignedManifest = {
      format: MANIFEST_FORMAT,
      clip: { file: clip, bytes: clipBytes, sha256: clipSha256 },
      request: {
        id: request.id,
        kind: request.kind,
        staff: request.staff.map((s) => ({ name: s.name, unit: s.unit })),
        purpose: request.purpose,
        destination: request.destination,
        approvedBy: request.decidedBy,
        approvedAt: request.decidedAt,
      },
      cameraId: job.cameraId,
      range: { from: new Date(cut.coveredFromMs).toISOString(), to: new Date(cut.coveredToMs).toISOString() },
      segments: segments.map((s) => ({
        path: s.path,
        sha256: s.sha256,
        bytes: s.bytes,
        chainSeq: s.seq,
        entryHash: s.entryHash,
        start: new Date(s.startMs).toISOString(),
        end: new Date(s.endMs).toISOString(),
      })),
      exportedAt,
      exportedBy: job.username,
      watermark: text,
      signer: { fingerprint: signer.fingerprint, publicKey: signer.publicKey.export({ type: 'spki', format: 'der' }).toString('base64') },
    };
    const manifestPartial = join(work, 'manifest.json.part');
    writeFileSync(manifestPartial, manifestText(signManifest(unsigned, signer)));
    renameSync(partial, join(this.dir, clip));
    renameSync(manifestPartial, join(this.dir, manifestName));
    rmSync(work, { recursive: true, force: true });
    return { clip, manifest: manifestName, clipBytes, clipSha256 };
  }

  #workDir(id: string): string {
    return join(this.dir, `.work-${id}`);
  }

  /** Removes whatever a job wrote: its work directory and any final file. */
  #cleanUp(id: string): void {
    rmSync(this.#workDir(id), { recursive: true, force: true });
    rmSync(join(this.dir, `${id}.mp4`), { force: true });
    rmSync(join(this.dir, `${id}.manifest.json`), { force: true });
  }

  async #fail(job: ExportJob, from: ExportJobState, error: string): Promise<void> {
    await this.#opts.store.exportJobs.update(job.id, from, { state: 'failed', error, finishedAt: new Date().toISOString() });
    this.#log.warn({ jobId: job.id, cameraId: job.cameraId, error }, 'export failed');
    await this.#audit(job, 'export.fail', 'error', { error });
  }

  async #register(job: ExportJob): Promise<void> {
    if (this.#opts.onExported === undefined || job.clipBytes === null || job.clipSha256 === null) return;
    try {
      await this.#opts.onExported({
        jobId: job.id,
        requestId: job.requestId,
        userId: job.userId,
        username: job.username,
        cameraId: job.cameraId,
        from: job.from,
        to: job.to,
        bytes: job.clipBytes,
        clipSha256: job.clipSha256,
        at: new Date().toISOString(),
      });
    } catch (err) {
      this.#log.error({ err, jobId: job.id }, 'could not register an export');
    }
  }

  #audit(job: ExportJob, action: string, outcome: 'ok' | 'error', details: Record<string, unknown>): Promise<void> {
    return this.#opts.store.audit.append({
      at: new Date().toISOString(),
      actor: job.username,
      action,
      cameraId: job.cameraId,
      outcome,
      details: { jobId: job.id, requestId: job.requestId, from: job.from, to: job.to, ...details },
    });
  }
}
