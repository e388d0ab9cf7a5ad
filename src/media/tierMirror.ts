import { nmsInternals, type NmsBroadcast } from './nmsInternals.js';

/**
 * Serves one tier of a camera from another tier's stream, inside the media server: the
 * shared tier of a camera without privacy masks carries exactly the raw tier's bytes, so
 * it is the raw tier's broadcast registered under the shared path too. The camera is then
 * published once instead of twice, and viewers and pushes of `/shared/<id>` keep their own
 * URL, token and viewer count.
 *
 * A camera that gets masks must stop being mirrored before its masked tier is published;
 * unmirroring disconnects everyone who came through the mirror, so that no source frame
 * reaches them afterwards (they reconnect to the path's own publish, or wait on it).
 */
export class TierMirrors {
  /** `/shared/<id>` → `/raw/<id>` */
  private readonly targets = new Map<string, string>();

  mirror(fromPath: string, toPath: string): void {
    this.targets.set(toPath, fromPath);
    const source = nmsInternals().broadcasts.get(fromPath);
    if (source) this.attach(toPath, source);
  }

  unmirror(toPath: string): void {
    const fromPath = this.targets.get(toPath);
    if (fromPath === undefined) return;
    this.targets.delete(toPath);
    const broadcasts = nmsInternals().broadcasts;
    const current = broadcasts.get(toPath);
    if (current && current.streamPath !== toPath) broadcasts.delete(toPath);
    // The mirrored path's viewers are subscribers of the source broadcast (whichever one is
    // current, also one replaced since): cut them off, the source's own viewers stay.
    for (const source of new Set([current, broadcasts.get(fromPath)])) {
      if (source && source.streamPath !== toPath) disconnect(source, toPath);
    }
  }

  /** Called when a stream is published: (re)attach every tier mirrored from it. */
  published(streamPath: string): void {
    const source = nmsInternals().broadcasts.get(streamPath);
    if (!source) return;
    for (const [toPath, fromPath] of this.targets) if (fromPath === streamPath) this.attach(toPath, source);
  }

  private attach(toPath: string, source: NmsBroadcast): void {
    const broadcasts = nmsInternals().broadcasts;
    const previous = broadcasts.get(toPath);
    if (previous === source) return;
    broadcasts.set(toPath, source);
    // Viewers who came before the source was published (or to a source that has since
    // been replaced) wait on a broadcast nobody publishes to: move them over.
    if (!previous) return;
    for (const [id, subscriber] of previous.subscribers) {
      subscriber.broadcast = source;
      source.subscribers.set(id, subscriber);
    }
    previous.subscribers.clear();
  }
}

function disconnect(source: NmsBroadcast, viaPath: string): void {
  for (const [id, subscriber] of source.subscribers) {
    if (subscriber.streamPath !== viaPath) continue;
    // Out of the fan-out first, so not one more frame is written to it before it closes.
    source.subscribers.delete(id);
    try {
      subscriber.close?.();
    } catch {
      /* already closed */
    }
  }
}
