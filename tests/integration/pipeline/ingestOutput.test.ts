import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../bench/stats.js';
import { createLogger } from '../../../src/log.js';
import { FlvTagReader, type FlvTag } from '../../../src/media/flv.js';
import { buildIngestArgs, FfmpegProcess, type StreamInfo } from '../../../src/pipeline/index.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { startTestCamera, type TestCamera } from '../../helpers/testCamera.js';

const logger = createLogger({ level: 'silent' });
const info: StreamInfo = { video: { codec: 'h264', width: 640, height: 360, fps: 25, profile: null }, audio: null, format: 'rtsp' };
const transcode = { encoder: 'libx264', preset: 'veryfast', maxBitrateKbps: 2000, gopSeconds: 1 };

describe("the ingest's own output (real ffmpeg, GStreamer camera)", () => {
  let camera: TestCamera;
  beforeAll(async () => {
    requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    camera = await startTestCamera();
  });
  afterAll(async () => {
    await camera?.stop();
  });

  // An RTSP stream's first packet carries no timestamp. The tee muxer, fed in the codec's 1/25 time base,
  // then saw every later packet one tick "late" and printed two warnings per packet: 50 stderr lines a
  // second per camera for ffmpeg to write and the gateway to read.
  it('copies a camera to the live FLV with 40 ms between frames and no warning per packet', async () => {
    const stderr: string[] = [];
    const video: FlvTag[] = [];
    const reader = new FlvTagReader();
    let frames = 0;
    const proc = new FfmpegProcess({
      binary: 'ffmpeg',
      args: buildIngestArgs({
        inputUrl: camera.url,
        rtspTransport: 'tcp',
        socketTimeoutSeconds: 5,
        info,
        liveTargets: ['pipe:3'],
        liveTranscode: transcode,
      }),
      logger,
      onPipe3: (chunk) => video.push(...reader.push(chunk).filter((t) => t.type === 'video' && t.avcPacketType === 1)),
    });
    proc.on('stderr', (line) => stderr.push(line));
    proc.on('progress', (s) => (frames = s.frame));
    const exited = proc.start();
    try {
      const flowed = await pollUntil(() => frames >= 100 && video.length >= 100, 30_000, 50);
      expect(flowed, `${frames} frames, ${video.length} tags in 30 s\n${stderr.slice(-5).join('\n')}`).not.toBeNull();
    } finally {
      await proc.stop();
      await exited;
    }
    // The first packet has no timestamp of its own: ffmpeg gives it the second one's. From there on, 25 fps.
    const steps = video.slice(2).map((t, i) => t.timestamp - (video[i + 1] as FlvTag).timestamp);
    expect(steps.filter((d) => d !== 40)).toEqual([]);
    // The first packet's own warnings are fine; one per packet is not.
    expect(stderr.length, stderr.slice(0, 6).join('\n')).toBeLessThanOrEqual(4);
  });
});
