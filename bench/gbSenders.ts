/**
 * A process of GB/T 28181 live sessions for the benchmark (bench/gbPhase.ts), so that its CPU
 * is measured apart from the receiver: `--mode gateway` runs the gateway's LiveSender (an
 * ffmpeg reader copying Annex B, PS muxing and RTP in Node); `--mode baseline` runs the
 * baseline chosen for it, ffmpeg muxing MPEG-PS itself (`-f mpeg`) piped to a minimal RTP
 * sender (fixed-size payloads, the same packetizer, no frame awareness).
 * stdin: `ADD <n>` starts n more sessions; stdout: `STARTED <ssrc> <epoch ms>` per session.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { LiveSender, RtpPacketizer } from '../src/platform/index.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    url: { type: 'string' },
    camera: { type: 'string' },
    fps: { type: 'string' },
    port: { type: 'string' },
  },
});
const mode = values.mode === 'baseline' ? 'baseline' : 'gateway';
const url = values.url ?? '';
const port = Number(values.port);
const fps = Number(values.fps ?? 25);
let next = 1;

function startGateway(ssrc: number): void {
  const sender = new LiveSender({
    cameraId: values.camera ?? '',
    sourceUrl: url,
    fps,
    transport: 'udp',
    destination: { host: '127.0.0.1', port },
    ssrc,
    localAddress: '127.0.0.1',
  });
  sender.once('ended', (end) => process.stderr.write(`session ${ssrc} ended: ${end.reason} ${end.detail}\n`));
  void sender
    .prepare()
    .then(() => sender.start())
    .catch((err: unknown) => process.stderr.write(`session ${ssrc}: ${String(err)}\n`));
}

function startBaseline(ssrc: number): void {
  const ffmpeg = spawn(
    'ffmpeg',
    [
      // The reader's input options (src/platform/gb28181/media/liveSender.ts), MPEG-PS out.
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-analyzeduration', '500000', '-i', url],
      ...['-map', '0:v:0', '-c', 'copy', '-f', 'mpeg', 'pipe:1'],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const socket = createSocket('udp4');
  socket.connect(port, '127.0.0.1');
  const packetizer = new RtpPacketizer({ ssrc });
  const started = Date.now();
  ffmpeg.stdout.on('data', (chunk: Buffer) => {
    const time = Math.round((Date.now() - started) * 90);
    for (const packet of packetizer.packetize(chunk, time)) socket.send(packet);
  });
  process.once('exit', () => ffmpeg.kill('SIGKILL'));
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = /^ADD (\d+)$/.exec(line.trim());
  if (m === null) return;
  for (let i = 0; i < Number(m[1]); i += 1) {
    const ssrc = next++;
    process.stdout.write(`STARTED ${ssrc} ${Date.now()}\n`);
    if (mode === 'gateway') startGateway(ssrc);
    else startBaseline(ssrc);
  }
});
process.stdin.once('end', () => process.exit(0));
process.stdout.write('READY\n');
