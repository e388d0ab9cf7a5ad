/**
 * Where recorded segments lie in a cluster: each segment entry names the node that wrote it,
 * whose recorder made the file on its disk (`ChainEntry.node`, absent: this gateway's own directory). A node asked
 * for footage another node holds goes through that node while it is alive; a node that is
 * not alive makes its footage unreachable, which is not missing: it is served again once
 * the node is back. Pure: the caller reads the nodes table.
 */
import type { ChainEntry } from '../domain/index.js';
import { GatewayError } from '../errors.js';

/** A node as the nodes table has it (GET /api/v1/nodes). */
export interface HoldingNode {
  name: string;
  alive: boolean;
  apiUrl: string | null;
}

export type SegmentPlace =
  { at: 'here' } | { at: 'node'; node: string; apiUrl: string } | { at: 'unreachable'; node: string; reason: string };

/**
 * Where one segment's file is served from, seen from node `self` (null: a single gateway,
 * whose recordings are all on its own disk whichever name wrote them).
 */
export function segmentPlace(entry: Pick<ChainEntry, 'node'>, self: string | null, nodes: readonly HoldingNode[]): SegmentPlace {
  const holder = entry.node;
  if (self === null || holder === undefined || holder === null || holder === self) return { at: 'here' };
  const node = nodes.find((n) => n.name === holder);
  if (node === undefined) return { at: 'unreachable', node: holder, reason: 'is not a node of this cluster' };
  if (!node.alive) return { at: 'unreachable', node: holder, reason: 'is not alive (its heartbeat expired)' };
  if (node.apiUrl === null) return { at: 'unreachable', node: holder, reason: 'has not published its API URL' };
  return { at: 'node', node: holder, apiUrl: node.apiUrl };
}

/** The segments of one unreachable node: their count and the time they span. */
export interface UnreachableSpan {
  node: string;
  reason: string;
  fromMs: number;
  toMs: number;
  segments: number;
}

/** The segments held by nodes that cannot be reached now, one span per node (in order of first start). */
export function unreachableSpans(entries: readonly ChainEntry[], self: string | null, nodes: readonly HoldingNode[]): UnreachableSpan[] {
  const spans = new Map<string, UnreachableSpan>();
  for (const e of entries) {
    const place = segmentPlace(e, self, nodes);
    if (place.at !== 'unreachable') continue;
    const span = spans.get(place.node);
    if (span === undefined)
      spans.set(place.node, { node: place.node, reason: place.reason, fromMs: e.startMs, toMs: e.endMs, segments: 1 });
    else {
      span.fromMs = Math.min(span.fromMs, e.startMs);
      span.toMs = Math.max(span.toMs, e.endMs);
      span.segments += 1;
    }
  }
  return [...spans.values()].sort((a, b) => a.fromMs - b.fromMs);
}

/** 503 RECORDING_UNREACHABLE naming each node and the time its segments span: unreachable, not missing. */
export function recordingUnreachable(cameraId: string, spans: readonly UnreachableSpan[]): GatewayError {
  const parts = spans.map(
    (s) =>
      `node ${s.node} holds ${s.segments} segment${s.segments === 1 ? '' : 's'} from ${iso(s.fromMs)} to ${iso(s.toMs)} and ${s.reason}`,
  );
  const names = spans.map((s) => s.node).join(', ');
  return new GatewayError('RECORDING_UNREACHABLE', `Recordings of camera ${cameraId} are unreachable, not missing: ${parts.join('; ')}.`, {
    hint: `They are served again once node ${names} is back (nothing was deleted); GET /api/v1/nodes says which nodes are alive.`,
    details: { cameraId, unreachable: spans.map((s) => ({ node: s.node, from: iso(s.fromMs), to: iso(s.toMs), segments: s.segments })) },
  });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
