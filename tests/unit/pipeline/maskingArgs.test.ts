import { describe, expect, it } from 'vitest';
import { buildMaskingArgs } from '../../../src/pipeline/maskingArgs.js';

const plan = {
  sourceUrl: 'rtmp://127.0.0.1/raw/1?token=t',
  imageFiles: ['/d/v1-0.pgm', '/d/v1-1.pgm'],
  filterComplex: '[0:v]null[masked]',
  fps: 25,
  frameHeight: 361,
  hasAudio: true,
  targetUrl: 'rtmp://127.0.0.1/shared/1?sign=s',
  encoder: { encoder: 'libx264', preset: 'veryfast', maxBitrateKbps: 1500, gopSeconds: 1 },
};

describe('buildMaskingArgs', () => {
  it('gives each mask image as a looped input after the video, in order', () => {
    const args = buildMaskingArgs(plan);
    const inputs = args.flatMap((a, i) => (a === '-i' ? [args[i + 1]] : []));
    expect(inputs).toEqual([plan.sourceUrl, ...plan.imageFiles]);
    expect(args.join(' ')).toContain('-loop 1 -framerate 25 -i /d/v1-0.pgm');
  });

  it('ends on even dimensions that libx264 accepts, and caps the height when asked', () => {
    expect(buildMaskingArgs(plan)).toContain('[0:v]null[masked];[masked]scale=-2:360[shared]');
    expect(buildMaskingArgs({ ...plan, frameHeight: 1080, encoder: { ...plan.encoder, maxHeight: 720 } })).toContain(
      '[0:v]null[masked];[masked]scale=-2:720[shared]',
    );
  });

  it('encodes H.264 with a fixed GOP, copies the audio and publishes FLV', () => {
    const args = buildMaskingArgs(plan);
    expect(args).toEqual(
      expect.arrayContaining(['-map', '[shared]', '-map', '0:a:0', '-c:a', 'copy', '-c:v', 'libx264', '-g', '25', '-bf', '0']),
    );
    expect(args.slice(-1)).toEqual([plan.targetUrl]);
  });

  it('reads a sub stream over RTSP like the ingest, and makes its audio AAC when it is not', () => {
    const rtsp = { transport: 'tcp' as const, socketTimeoutSeconds: 5, transcodeAudio: true };
    const args = buildMaskingArgs({ ...plan, sourceUrl: 'rtsp://u:p@cam/sub', rtsp }).join(' ');
    expect(args).toContain('-rtsp_transport tcp -timeout 5000000 -analyzeduration 2000000 -i rtsp://u:p@cam/sub -loop 1');
    expect(args).toContain('-map 0:a:0 -c:a aac -b:a 48k');
    expect(buildMaskingArgs({ ...plan, sourceUrl: 'rtsp://cam/sub', rtsp: { ...rtsp, transcodeAudio: false } }).join(' ')).toContain(
      '-map 0:a:0 -c:a copy',
    );
  });
});
