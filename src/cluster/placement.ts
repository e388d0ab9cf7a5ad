import { createHash } from 'node:crypto';

/** A camera to place, with what it costs a node to run it (a masked camera re-encodes: more than a copy). */
export interface PlacementCamera {
  id: string;
  cost: number;
}

export interface PlacementNode {
  name: string;
  /** Relative capacity (1: a standard node). */
  weight: number;
  /** Takes new cameras (alive, neither cordoned nor draining). */
  accepts: boolean;
  /** Keeps the cameras it holds (alive and not draining; a cordoned node keeps its own). */
  keeps: boolean;
}

export interface PlacementInput {
  cameras: readonly PlacementCamera[];
  /** The live nodes; a node that is not listed holds nothing. */
  nodes: readonly PlacementNode[];
  /** Who holds each camera's valid lease now. */
  holders: ReadonlyMap<string, string>;
  /** How far above its weighted share a node may stay before it sheds cameras (0.1: 10 %; default 0). */
  slack?: number;
}

/** Weighted rendezvous score of a camera on a node: the node with the highest score is the camera's first choice. */
export function rendezvousScore(cameraId: string, node: string, weight: number): number {
  const digest = createHash('sha1').update(cameraId).update('\0').update(node).digest();
  // 48 bits → (0, 1); -w / ln(u) gives each node its weight's proportion of first choices.
  const u = (digest.readUIntBE(0, 6) + 0.5) / 2 ** 48;
  return -weight / Math.log(u);
}

/** The cost of running a camera: a copy-mode camera 1, a masked one (decode, mask, encode) 3. */
export function cameraCost(camera: { masks: readonly unknown[] }): number {
  return camera.masks.length > 0 ? 3 : 1;
}

/**
 * Where each camera should run: pure, so every node computes the same answer from the
 * same lease table. A node keeps what it holds while within its weighted share (plus
 * slack): sticky, so a join moves only the excess and a loss moves only the lost node's
 * cameras. Cameras without a keeper go, by rendezvous order, to the first node with room
 * under its share, else to the least loaded one. Cameras are missing from the answer only
 * when no node accepts any.
 */
export function placeCameras(input: PlacementInput): Map<string, string> {
  const slack = input.slack ?? 0;
  const out = new Map<string, string>();
  const byName = new Map(input.nodes.map((n) => [n.name, n]));
  const load = new Map(input.nodes.map((n) => [n.name, 0]));
  const accepting = input.nodes.filter((n) => n.accepts);
  const cameras = [...input.cameras].sort((a, b) => b.cost - a.cost || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  // A cordoned node's cameras stay with it and are outside the shares of the others.
  const free: PlacementCamera[] = [];
  const candidates = new Map<string, PlacementCamera[]>();
  for (const camera of cameras) {
    const holder = byName.get(input.holders.get(camera.id) ?? '');
    if (holder?.keeps === true && !holder.accepts) {
      out.set(camera.id, holder.name);
      load.set(holder.name, (load.get(holder.name) ?? 0) + camera.cost);
    } else if (holder?.keeps === true) {
      candidates.set(holder.name, [...(candidates.get(holder.name) ?? []), camera]);
    } else {
      free.push(camera);
    }
  }
  if (accepting.length === 0) return out;
  const shared = cameras.filter((c) => !out.has(c.id)).reduce((sum, c) => sum + c.cost, 0);
  const totalWeight = accepting.reduce((sum, n) => sum + n.weight, 0);
  const limit = (n: PlacementNode) => (shared * n.weight * (1 + slack)) / totalWeight;

  // Stickiness: a holder keeps its best-scoring cameras while below its limit (so it may end up to one camera above
  // it: no camera flaps between nodes when the cameras do not divide evenly) and sheds the rest.
  for (const [name, held] of candidates) {
    const node = byName.get(name) as PlacementNode;
    const ranked = held.sort((a, b) => rendezvousScore(b.id, name, node.weight) - rendezvousScore(a.id, name, node.weight));
    for (const camera of ranked) {
      const before = load.get(name) ?? 0;
      if (before < limit(node) || before === 0) {
        out.set(camera.id, name);
        load.set(name, before + camera.cost);
      } else {
        free.push(camera);
      }
    }
  }

  free.sort((a, b) => b.cost - a.cost || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const camera of free) {
    const ranked = [...accepting].sort(
      (a, b) => rendezvousScore(camera.id, b.name, b.weight) - rendezvousScore(camera.id, a.name, a.weight),
    );
    const roomy = ranked.find((n) => (load.get(n.name) ?? 0) + camera.cost <= limit(n));
    const chosen =
      roomy ??
      ranked.reduce((best, n) =>
        ((load.get(n.name) ?? 0) + camera.cost) / n.weight < ((load.get(best.name) ?? 0) + camera.cost) / best.weight ? n : best,
      );
    out.set(camera.id, chosen.name);
    load.set(chosen.name, (load.get(chosen.name) ?? 0) + camera.cost);
  }
  return out;
}
