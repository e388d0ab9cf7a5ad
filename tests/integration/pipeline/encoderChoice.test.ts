import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { chooseH264Encoder, readFfmpegCapabilities } from '../../../src/pipeline/index.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';

const logger = createLogger({ level: 'silent' });

describe('choosing the H.264 encoder of masked shared tiers (real ffmpeg)', () => {
  it('takes a hardware encoder only if it really encodes, and falls back to libx264', async () => {
    const ffmpeg = requireTool('ffmpeg', FFMPEG_INSTALL_HINT);
    const caps = await readFfmpegCapabilities(ffmpeg, logger);
    expect(caps.hasLibx264).toBe(true);
    const chosen = await chooseH264Encoder(ffmpeg, caps.videoEncoders, logger);
    expect(['libx264', 'h264_nvenc', 'h264_qsv', 'h264_amf', 'h264_videotoolbox']).toContain(chosen);
    // Debian's ffmpeg lists NVENC and Quick Sync; without their devices the trial encode fails.
    expect(await chooseH264Encoder(ffmpeg, ['h264_nvenc_missing', 'libx264'], logger)).toBe('libx264');
  });
});
