/**
 * Cluster mode: recorded segments and export clips that another node's disk holds are
 * fetched through that node, with a relay token: signed with the playback key every node
 * derives from the shared PSVGW_SECRET_KEY, purpose `internal` (never a viewer's token),
 * for one file of one camera, valid for a minute. The node asked checks the caller and
 * registers the retrieval; the holding node only hands over the file.
 */
import { createWriteStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import type { ChainEntry } from '../domain/index.js';
import { GatewayError } from '../errors.js';
import { signPlayToken, verifyPlayToken } from '../media/index.js';
import { recordingUnreachable, segmentPlace, unreachableSpans, type HoldingNode, type SegmentPlace } from '../recording/index.js';

/** This node's name and the nodes table, in cluster mode. */
export interface RecordingNodes {
  self: string;
  nodes(): Promise<HoldingNode[]>;
}

/** What a relay token lets the holding node hand over: one file of one camera. */
export interface RelayedFile {
  cameraId: string;
  /** `recording` (a segment) or `export` (a clip or manifest). */
  tier: string;
  /** The file: `segment:<seq>`, `export:<job>:clip`. */
  file: string;
}

const RELAY_TOKEN_SECONDS = 60;
const nowSeconds = () => Math.floor(Date.now() / 1000);
export const segmentFile = (seq: number): string => `segment:${seq}`;

export class SegmentRelay {
  constructor(
    private readonly tokenKey: Buffer,
    /** Absent: a single gateway, every file is on this disk. */
    readonly cluster: RecordingNodes | undefined,
    /** This node's recordings directory: a segment file found there is served from it, whoever indexed it (shared storage). */
    private readonly recordingsDir?: string,
    /** How long the holding node may take to start answering. */
    private readonly answerTimeoutMs = 10_000,
  ) {}

  /** Where a file held by `node` (absent: this gateway) is served from now; `localPath`: where it would be on this disk. */
  async place(entry: { node?: string | null }, localPath?: string): Promise<SegmentPlace> {
    if (this.cluster === undefined || entry.node === undefined || entry.node === null || entry.node === this.cluster.self)
      return { at: 'here' };
    if (localPath !== undefined && (await exists(localPath))) return { at: 'here' };
    return segmentPlace(entry, this.cluster.self, await this.cluster.nodes());
  }

  /** Where a segment is served from now (its file on this disk first). */
  placeSegment(entry: ChainEntry): Promise<SegmentPlace> {
    return this.place(entry, this.recordingsDir === undefined ? undefined : join(this.recordingsDir, entry.path));
  }

  /** 503 RECORDING_UNREACHABLE when any of the camera's segments lies on a node that cannot be reached now. */
  async requireReachable(cameraId: string, entries: readonly ChainEntry[]): Promise<void> {
    const cluster = this.cluster;
    if (cluster === undefined) return;
    const elsewhere = entries.filter((e) => e.kind === 'segment' && typeof e.node === 'string' && e.node !== cluster.self);
    if (elsewhere.length === 0) return;
    const dir = this.recordingsDir;
    const missingHere = dir === undefined ? elsewhere : await filterAsync(elsewhere, async (e) => !(await exists(join(dir, e.path))));
    const spans = unreachableSpans(missingHere, cluster.self, await cluster.nodes());
    if (spans.length > 0) throw recordingUnreachable(cameraId, spans);
  }

  /** A relay token for one file, valid for a minute. */
  token(file: RelayedFile): string {
    return signPlayToken(
      { cameraId: file.cameraId, tier: file.tier, expiresAt: nowSeconds() + RELAY_TOKEN_SECONDS, purpose: 'internal', reader: file.file },
      this.tokenKey,
    );
  }

  /** Whether `token` is a node's relay token for exactly this file. */
  isRelay(token: unknown, want: RelayedFile): boolean {
    const verdict = verifyPlayToken(token, { cameraId: want.cameraId, tier: want.tier, purpose: 'internal' }, this.tokenKey, nowSeconds());
    return verdict.ok && verdict.grant.reader === want.file;
  }

  /**
   * The file's bytes from the node holding it (`path` on its API, the relay token added);
   * `unreachable` builds the error when that node does not answer.
   */
  async open(
    apiUrl: string,
    path: string,
    file: RelayedFile,
    unreachable: (reason: string) => GatewayError,
  ): Promise<{ bytes: number | null; body: Readable }> {
    const url = new URL(path, apiUrl);
    url.searchParams.set('token', this.token(file));
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.answerTimeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { signal: abort.signal });
    } catch (err) {
      throw unreachable(`did not answer (${(err as Error).message})`);
    } finally {
      clearTimeout(timer);
    }
    if (res.status !== 200 || res.body === null) {
      const text = await res.text().catch(() => '');
      if (res.status === 404) throw new GatewayError('NOT_FOUND', `The node holding it does not have it: ${text.slice(0, 300)}`);
      throw unreachable(`answered ${res.status}`);
    }
    const length = Number(res.headers.get('content-length'));
    return { bytes: Number.isSafeInteger(length) ? length : null, body: Readable.fromWeb(res.body as ReadableStream) };
  }

  /** A segment's bytes from the node holding it; RECORDING_UNREACHABLE when that node does not answer. */
  openSegment(entry: ChainEntry, place: { node: string; apiUrl: string }): Promise<{ bytes: number | null; body: Readable }> {
    const span = { node: place.node, fromMs: entry.startMs, toMs: entry.endMs, segments: 1 };
    return this.open(
      place.apiUrl,
      `/playback/${encodeURIComponent(entry.cameraId)}/${entry.seq}.ts`,
      { cameraId: entry.cameraId, tier: 'recording', file: segmentFile(entry.seq) },
      (reason) => recordingUnreachable(entry.cameraId, [{ ...span, reason }]),
    );
  }

  /**
   * Exports: copies a segment another node holds to `file`; false when it is on this disk.
   * RECORDING_UNREACHABLE when its node cannot be reached.
   */
  async copySegment(entry: ChainEntry, file: string): Promise<boolean> {
    const place = await this.placeSegment(entry);
    if (place.at === 'here') return false;
    if (place.at === 'unreachable') {
      throw recordingUnreachable(entry.cameraId, [{ ...place, fromMs: entry.startMs, toMs: entry.endMs, segments: 1 }]);
    }
    const { body } = await this.openSegment(entry, place);
    await pipeline(body, createWriteStream(file, { mode: 0o600 }));
    return true;
  }
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function filterAsync<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const kept = await Promise.all(items.map(keep));
  return items.filter((_, i) => kept[i]);
}
