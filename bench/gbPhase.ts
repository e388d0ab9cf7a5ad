/**
 * GB/T 28181 live sessions: CPU per session of the gateway's sender (ffmpeg copying the
 * stream as Annex B, PS muxing and RTP in Node) against ffmpeg muxing MPEG-PS itself piped
 * to a minimal RTP sender; the time from a session's start to its first RTP packet; how many
 * sessions one process sustains (stepped up until packets are lost or late, or the Node
 * process saturates, within a time budget); and what the per-frame buffer copies of the
 * live path cost next to the whole path.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AnnexBSplitter, frameRfc4571, ParameterSetCache, parseRtpPacket, PsMuxer, RtpPacketizer } from '../src/platform/index.js';
import { BenchCamera } from './camera.js';
import { BenchGateway } from './gateway.js';
import { readLines, spawnTracked, stopChild } from './children.js';
import type { BenchOptions } from './options.js';
import { measureTree } from './procstat.js';
import { attempt, progress } from './progress.js';
import { percentile, pollUntil, round, sleep } from './stats.js';

const ENTRY = fileURLToPath(new URL('./gbSenders.js', import.meta.url));
const CAMERA_ID = '34020000001320000001';

interface Flow {
  firstAt: number | null;
  packets: number;
  frames: number;
  lost: number;
  lastSeq: number | null;
}

/** The upper platform's media port: counts packets, frames (marker bits) and sequence gaps per SSRC. */
class Receiver {
  readonly flows = new Map<number, Flow>();
  private constructor(readonly socket: Socket) {
    socket.on('message', (packet) => {
      const p = parseRtpPacket(packet);
      let f = this.flows.get(p.ssrc);
      if (f === undefined) this.flows.set(p.ssrc, (f = { firstAt: Date.now(), packets: 0, frames: 0, lost: 0, lastSeq: null }));
      if (f.lastSeq !== null) f.lost += (p.sequence - f.lastSeq - 1 + 0x10000) % 0x10000;
      f.lastSeq = p.sequence;
      f.packets += 1;
      if (p.marker) f.frames += 1;
    });
  }

  static async open(): Promise<Receiver> {
    const socket = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new Receiver(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  totals(): { packets: number; frames: number; lost: number } {
    let packets = 0;
    let frames = 0;
    let lost = 0;
    for (const f of this.flows.values()) {
      packets += f.packets;
      frames += f.frames;
      lost += f.lost;
    }
    return { packets, frames, lost };
  }
}

/** One gbSenders.ts process and the start times of its sessions. */
class Senders {
  readonly startedAt = new Map<number, number>();
  private ready = false;
  private constructor(readonly child: ChildProcess) {
    readLines(child.stdout, (line) => {
      if (line === 'READY') this.ready = true;
      const m = /^STARTED (\d+) (\d+)$/.exec(line);
      if (m) this.startedAt.set(Number(m[1]), Number(m[2]));
    });
    readLines(child.stderr, (line) => progress(`  senders: ${line}`));
  }

  static async start(mode: 'gateway' | 'baseline', url: string, fps: number, port: number, cameraId = CAMERA_ID): Promise<Senders> {
    const child = spawnTracked(
      process.execPath,
      [ENTRY, '--mode', mode, '--url', url, '--camera', cameraId, '--fps', String(fps), '--port', String(port)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const s = new Senders(child);
    if ((await pollUntil(() => s.ready, 15_000)) === null) throw new Error(`${mode} senders did not start`);
    return s;
  }

  add(n: number): void {
    this.child.stdin?.write(`ADD ${n}\n`);
  }

  get pid(): number {
    return this.child.pid as number;
  }
}

export interface GbStep {
  sessions: number;
  /** The senders' and the gateway's Node processes (PS muxing, RTP, sockets, serving the shared tier), % of one core. */
  nodeCpuPct: number | null;
  /** The ffmpeg readers and the gateway's ingest together, % of one core. */
  ffmpegCpuPct: number | null;
  /** Received frames per session per second, against the camera's rate. */
  framesPerSessionPerSecond: number | null;
  lostPackets: number;
  ok: boolean;
  why: string | null;
}

export interface GbResults {
  errors: string[];
  camera: string;
  /** The gateway with the camera and the idle senders' process: what sessions are measured over. */
  idle: { nodeCpuPct: number | null; ffmpegCpuPct: number | null } | null;
  steps: GbStep[];
  baseline: GbStep | null;
  perSession: { gatewayNodeCpuPct: number | null; gatewayTotalCpuPct: number | null; baselineTotalCpuPct: number | null } | null;
  startToFirstPacketMs: { n: number; p50: number | null; p95: number | null } | null;
  sustainedSessions: number | null;
  copies: CopyCost | null;
}

/** Adds sessions up to `n`, settles, and measures the tree and what the receiver got. */
async function step(
  s: Senders,
  gw: BenchGateway,
  r: Receiver,
  have: number,
  n: number,
  o: BenchOptions,
  fps: number,
  windowSeconds: number,
): Promise<GbStep> {
  s.add(n - have);
  await pollUntil(() => [...r.flows.values()].filter((f) => f.frames > 0).length >= n, 20_000, 100);
  await sleep(o.warmupSeconds * 1000);
  const before = r.totals();
  const usage = await measureTree(roots(s, gw), windowSeconds);
  const after = r.totals();
  const perSession = (after.frames - before.frames) / n / usage.seconds;
  const lost = after.lost - before.lost;
  const nodeCpuPct = round(usage.cpuPctBy.main ?? null);
  const why =
    lost > 0.005 * (after.packets - before.packets)
      ? `${lost} packets lost`
      : perSession < 0.9 * fps
        ? `${perSession.toFixed(1)} frames/s per session of ${fps}`
        : (nodeCpuPct ?? 0) > 90
          ? 'the Node processes (senders and gateway) are over 90 % of a core'
          : usage.cpuPct > 90 * availableParallelism()
            ? 'the machine is saturated'
            : null;
  return {
    sessions: n,
    nodeCpuPct,
    ffmpegCpuPct: round(usage.cpuPctBy.ffmpeg ?? 0),
    framesPerSessionPerSecond: round(perSession),
    lostPackets: lost,
    ok: why === null,
    why,
  };
}

export interface CopyCost {
  frames: number;
  meanFrameBytes: number;
  /** Splitter, parameter sets, PS muxer, RTP packetizer and RFC 4571 framing, per frame. */
  pathMicrosPerFrame: number;
  /** Four copies of each frame's bytes (muxer concat, packetizer, RFC 4571, splitter concat), per frame. */
  copiesMicrosPerFrame: number;
  copiesShareOfPath: number;
}

/** In-process: the live path over 3 s of the camera's Annex B, and what copying each frame four times costs beside it. */
function copyCost(url: string, fps: number): CopyCost {
  const es = spawnSync(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-rtsp_transport',
      'tcp',
      '-i',
      url,
      '-t',
      '3',
      '-map',
      '0:v:0',
      '-c',
      'copy',
      '-f',
      'h264',
      'pipe:1',
    ],
    { maxBuffer: 64 << 20, timeout: 20_000 },
  ).stdout;
  if (!Buffer.isBuffer(es) || es.length === 0) throw new Error('no Annex B from the camera');
  const chunks: Buffer[] = [];
  for (let i = 0; i < es.length; i += 65_536) chunks.push(es.subarray(i, i + 65_536));
  const ticks = 90_000 / fps;
  const runPath = (): { frames: number; bytes: number } => {
    const splitter = new AnnexBSplitter('h264');
    const sets = new ParameterSetCache('h264');
    const muxer = new PsMuxer({ video: 'h264' });
    const packetizer = new RtpPacketizer({ ssrc: 1 });
    let frames = 0;
    let bytes = 0;
    for (const chunk of chunks)
      for (const au of splitter.push(chunk)) {
        const pack = muxer.writeVideo(sets.complete(au), frames * ticks);
        for (const packet of packetizer.packetize(pack.data, frames * ticks)) frameRfc4571(packet);
        frames += 1;
        bytes += pack.data.length;
      }
    return { frames, bytes };
  };
  const { frames, bytes } = runPath(); // warm-up, and the frame count
  // CPU time, not wall time: the machine may be busy with the cameras and other work.
  const cpuMicros = (fn: () => void): number => {
    const before = process.cpuUsage();
    fn();
    const used = process.cpuUsage(before);
    return used.user + used.system;
  };
  const loops = 40;
  const pathUs = cpuMicros(() => {
    for (let i = 0; i < loops; i += 1) runPath();
  });
  const frameBytes = Math.max(1, Math.round(bytes / Math.max(1, frames)));
  const frame = Buffer.alloc(frameBytes, 1);
  const copies = () => {
    for (let i = 0; i < loops * frames; i += 1) for (let c = 0; c < 4; c += 1) Buffer.concat([frame.subarray(0, 16), frame.subarray(16)]);
  };
  copies(); // warm-up
  const copyUs = cpuMicros(copies);
  const pathNs = (pathUs * 1000) / loops;
  const copyNs = (copyUs * 1000) / loops;
  return {
    frames,
    meanFrameBytes: frameBytes,
    pathMicrosPerFrame: round(pathNs / frames / 1000, 2) ?? 0,
    copiesMicrosPerFrame: round(copyNs / frames / 1000, 2) ?? 0,
    copiesShareOfPath: round(copyNs / pathNs, 3) ?? 0,
  };
}

/** The senders' tree with the gateway's, so that the media server serving each session is counted. */
const roots = (s: Senders, gw: BenchGateway): number[] => [s.pid, gw.pid];

/**
 * What a platform waits for after its ACK: sessions started one at a time, nothing else
 * running, from each session's start to its first packet at the receiver.
 */
async function firstPackets(
  url: string,
  cameraId: string,
  fps: number,
  trials: number,
): Promise<{ n: number; p50: number | null; p95: number | null }> {
  const receiver = await Receiver.open();
  const senders = await Senders.start('gateway', url, fps, receiver.port, cameraId);
  try {
    for (let i = 1; i <= trials; i += 1) {
      progress(`gb28181: start → first RTP packet, trial ${i}/${trials}`);
      senders.add(1);
      await pollUntil(() => receiver.flows.size >= i, 15_000, 20);
    }
    const starts = [...senders.startedAt].flatMap(([ssrc, at]) => {
      const first = receiver.flows.get(ssrc)?.firstAt;
      return first == null ? [] : [first - at];
    });
    return { n: starts.length, p50: round(percentile(starts, 50)), p95: round(percentile(starts, 95)) };
  } finally {
    await stopChild(senders.child);
    receiver.socket.close();
  }
}

export async function gbPhase(o: BenchOptions): Promise<GbResults> {
  const cam = o.camera;
  const results: GbResults = {
    errors: [],
    camera: `${cam.width}x${cam.height} H.264 at ${cam.fps} fps, pattern ${cam.pattern}`,
    idle: null,
    steps: [],
    baseline: null,
    perSession: null,
    startToFirstPacketMs: null,
    sustainedSessions: null,
    copies: null,
  };
  const camera = await BenchCamera.start(cam);
  const budgetMs = (o.quick ? 30 : 120) * 1000;
  const windowSeconds = o.quick ? 3 : 5;
  const plan = o.quick ? [1, 4, 8] : [1, 2, 4, 8, 12, 16, 24, 32, 48, 64];
  let gw: BenchGateway | null = null;
  try {
    await attempt(results.errors, 'gb28181 copies', () => {
      progress('gb28181: per-frame copies on the live path (in process)');
      results.copies = copyCost(camera.url, cam.fps);
      return Promise.resolve();
    });
    gw = await BenchGateway.start();
    const id = await gw.addCamera('GB bench', camera.url);
    const up = await pollUntil(async () => (await gw!.metric('psvgw_shared_tier_up', id)) === 1, 30_000, 200);
    if (up === null) throw new Error(`shared tier not up within 30 s\n${gw.logTail()}`);
    const url = (await gw.streams(id)).shared.httpFlv;
    await attempt(results.errors, 'gb28181 sessions', async () => {
      const receiver = await Receiver.open();
      const senders = await Senders.start('gateway', url, cam.fps, receiver.port, id);
      try {
        progress('gb28181: gateway with the camera, no session');
        await sleep(o.warmupSeconds * 1000);
        const idle = await measureTree(roots(senders, gw!), windowSeconds);
        results.idle = { nodeCpuPct: round(idle.cpuPctBy.main ?? 0), ffmpegCpuPct: round(idle.cpuPctBy.ffmpeg ?? 0) };
        const until = Date.now() + budgetMs;
        let have = 0;
        for (const n of plan) {
          if (Date.now() > until) break;
          progress(`gb28181: ${n} live sessions over loopback UDP, ${windowSeconds} s`);
          const s = await step(senders, gw!, receiver, have, n, o, cam.fps, windowSeconds);
          have = n;
          results.steps.push(s);
          if (!s.ok) break;
          results.sustainedSessions = n;
        }
      } finally {
        await stopChild(senders.child);
        receiver.socket.close();
      }
    });
    await attempt(results.errors, 'gb28181 first packet', async () => {
      results.startToFirstPacketMs = await firstPackets(url, id, cam.fps, o.quick ? 3 : 10);
    });
    const n = Math.min(4, results.sustainedSessions ?? 1);
    await attempt(results.errors, 'gb28181 baseline', async () => {
      const receiver = await Receiver.open();
      const senders = await Senders.start('baseline', url, cam.fps, receiver.port, id);
      try {
        progress(`gb28181 baseline: ${n} × ffmpeg -f mpeg | RTP sender, ${windowSeconds} s`);
        senders.add(n);
        await pollUntil(() => receiver.flows.size >= n, 20_000, 100);
        await sleep(o.warmupSeconds * 1000);
        const usage = await measureTree(roots(senders, gw!), windowSeconds);
        results.baseline = {
          sessions: n,
          nodeCpuPct: round(usage.cpuPctBy.main ?? null),
          ffmpegCpuPct: round(usage.cpuPctBy.ffmpeg ?? 0),
          framesPerSessionPerSecond: null,
          lostPackets: receiver.totals().lost,
          ok: true,
          why: null,
        };
      } finally {
        await stopChild(senders.child);
        receiver.socket.close();
      }
    });
    const at = results.steps.find((s) => s.sessions === n);
    const idle = results.idle;
    const b = results.baseline as GbStep | null;
    if (at && b && idle && at.nodeCpuPct !== null && b.nodeCpuPct !== null) {
      const node = (at.nodeCpuPct - idle.nodeCpuPct!) / n;
      const total = (c: GbStep) => ((c.nodeCpuPct ?? 0) - idle.nodeCpuPct! + (c.ffmpegCpuPct ?? 0) - idle.ffmpegCpuPct!) / n;
      results.perSession = {
        gatewayNodeCpuPct: round(node, 2),
        gatewayTotalCpuPct: round(total(at), 2),
        baselineTotalCpuPct: round(total(b), 2),
      };
    }
  } finally {
    await gw?.stop();
    await camera.stop();
  }
  return results;
}
