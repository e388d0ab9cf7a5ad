/**
 * The original video of cameras whose live tiers re-encode it (H.265: FLV cannot carry it):
 * the ingest's tee copies it, untouched, as MPEG-TS to a loopback UDP port per camera, and
 * whoever wants the camera's own stream (a GB/T 28181 session) subscribes here. The camera
 * is still pulled once. What arrives while nobody listens is dropped (its cost: the camera's
 * bitrate over loopback). A tap is kept until the gateway stops, also after its camera is removed.
 */
import { createSocket, type Socket } from 'node:dgram';

/** Where the ingest sends a camera's original video, and who hears it. */
export class OriginalVideoTaps {
  private readonly taps = new Map<string, { socket: Socket; url: string; listeners: Set<(chunk: Buffer) => void> }>();

  /** The camera's loopback UDP output URL for the ingest's tee (bound once, kept while the gateway runs). */
  async outputUrl(cameraId: string): Promise<string> {
    const known = this.taps.get(cameraId);
    if (known !== undefined) return known.url;
    // A big receive buffer: a burst of a key frame must not be dropped while the event loop is busy.
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    const listeners = new Set<(chunk: Buffer) => void>();
    socket.on('message', (chunk) => listeners.forEach((l) => l(chunk)));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // MPEG-TS packets are 188 bytes: seven per datagram keep each datagram whole packets.
    const url = `udp://127.0.0.1:${socket.address().port}?pkt_size=1316`;
    this.taps.set(cameraId, { socket, url, listeners });
    return url;
  }

  /** The camera's original video as MPEG-TS chunks from now on; undefined when the ingest does not tee it. */
  subscribe(cameraId: string, onData: (chunk: Buffer) => void): (() => void) | undefined {
    const tap = this.taps.get(cameraId);
    if (tap === undefined) return undefined;
    tap.listeners.add(onData);
    return () => tap.listeners.delete(onData);
  }

  has(cameraId: string): boolean {
    return this.taps.has(cameraId);
  }

  close(): void {
    for (const tap of this.taps.values()) tap.socket.close();
    this.taps.clear();
  }
}
