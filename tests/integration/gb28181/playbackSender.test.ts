/**
 * The paced sender of GB/T 28181 playback and download (issue 13, Must show 5), without a
 * gateway: a real ffmpeg encodes a 4-second test pattern as the reader of a "recording"; the
 * RTP that arrives shows the pace. A download at speed 4 sends the range in about a second
 * and ends with range-ended; a playback paused sends nothing, resumed goes on, and a seek
 * starts again at the asked media time from a key frame.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LiveSender } from '../../../src/platform/gb28181/media/liveSender.js';
import { parseRtpPacket, RtpDepacketizer } from '../../../src/platform/gb28181/media/rtp.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';

const FPS = 25;
const SECONDS = 4;
const TICKS = 90_000 / FPS;

/** The reader of a 4 s "recording" from an offset: H.264 Annex-B, a key frame every second. */
const reader = (offsetSeconds: number): string[] => [
  ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
  ...['-f', 'lavfi', '-i', `testsrc=size=160x96:rate=${FPS}:duration=${SECONDS - offsetSeconds}`],
  ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(FPS), '-bf', '0', '-pix_fmt', 'yuv420p', '-f', 'h264', 'pipe:1'],
];

interface Arrival {
  at: number;
  /** Media time in ticks from the first frame. */
  media: number;
}

async function receiver(): Promise<{ socket: Socket; frames: Arrival[] }> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const frames: Arrival[] = [];
  const depacketizer = new RtpDepacketizer({ payloadType: 96 });
  let first: number | undefined;
  socket.on('message', (packet) => {
    parseRtpPacket(packet);
    for (const f of depacketizer.push(packet)) {
      if (!f.complete) continue;
      first ??= f.timestamp;
      frames.push({ at: Date.now(), media: (f.timestamp - first) >>> 0 });
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, frames };
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('GB/T 28181 playback sender: paced recorded footage', () => {
  const open: Array<{ sender: LiveSender; socket: Socket }> = [];

  beforeAll(() => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
  });

  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.sender.stop();
      o.socket.close();
    }
  });

  async function start(speed: number): Promise<{ sender: LiveSender; frames: Arrival[] }> {
    const { socket, frames } = await receiver();
    const sender = new LiveSender({
      cameraId: '44030500001328000001',
      sourceUrl: '',
      playback: { args: reader, speed },
      fps: FPS,
      transport: 'udp',
      destination: { host: '127.0.0.1', port: socket.address().port },
      ssrc: 1_100_000_009,
    });
    open.push({ sender, socket });
    await sender.start();
    return { sender, frames };
  }

  it('a download at speed 4 sends the whole range in about a quarter of its length, then ends with range-ended', async () => {
    const { sender, frames } = await start(4);
    const end = await Promise.race([
      sender.ended,
      new Promise<never>((_, r) => setTimeout(() => r(new Error('no end within 20 s')), 20_000)),
    ]);
    expect(end.reason).toBe('range-ended');
    expect(frames).toHaveLength(SECONDS * FPS);
    expect(frames.map((f) => f.media)).toEqual(Array.from({ length: SECONDS * FPS }, (_, i) => i * TICKS));
    // 100 frames at 100 per second, from the first frame (encoder start-up not counted).
    const spanMs = frames[frames.length - 1]!.at - frames[0]!.at;
    expect(spanMs).toBeGreaterThan(600);
    expect(spanMs).toBeLessThan(2500);
  });

  it('pause holds every frame, resume goes on in real time, a seek starts at the asked media time', async () => {
    const { sender, frames } = await start(1);
    await until('10 frames', () => frames.length >= 10, 15_000);
    sender.pause();
    expect(sender.pace).toEqual({ paused: true, speed: 1 });
    await new Promise((r) => setTimeout(r, 100)); // a frame already on its way may land
    const held = frames.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(frames.length, 'frames while paused').toBe(held);
    const resumedAt = Date.now();
    sender.resume();
    await until('20 more frames', () => frames.length >= held + 20, 10_000);
    // 20 frames at 25 per second: about 0.8 s, not a burst of what waited.
    expect(Date.now() - resumedAt).toBeGreaterThan(600);
    const beforeSeek = frames.length;
    sender.seek(3);
    await until('frames after the seek', () => frames.length >= beforeSeek + 5, 10_000);
    const afterSeek = frames.slice(beforeSeek).find((f) => f.media >= 3 * FPS * TICKS);
    expect(afterSeek, 'a frame at 3 s of media time').toBeDefined();
    expect(frames.slice(beforeSeek).every((f) => f.media >= 3 * FPS * TICKS || f.media < 2 * FPS * TICKS)).toBe(true);
    expect(
      frames
        .slice(frames.indexOf(afterSeek!))
        .map((f) => f.media / TICKS)
        .slice(0, 5),
    ).toEqual([75, 76, 77, 78, 79]);
    const end = await Promise.race([
      sender.ended,
      new Promise<never>((_, r) => setTimeout(() => r(new Error('no end within 10 s')), 10_000)),
    ]);
    expect(end.reason).toBe('range-ended');
  });
});
