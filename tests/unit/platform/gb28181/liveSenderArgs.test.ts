import { describe, expect, it } from 'vitest';
import { liveReaderArgs, tierOfPlayUrl } from '../../../../src/platform/gb28181/media/liveSender.js';

describe('GB/T 28181 live sender: source', () => {
  it('accepts only the camera’s shared tier (internal RTMP or HTTP-FLV play URL)', () => {
    expect(tierOfPlayUrl('rtmp://127.0.0.1:1935/shared/cam-1?token=t&psvgw=1', 'cam-1')).toBe('shared');
    expect(tierOfPlayUrl('http://127.0.0.1:8000/shared/cam-1.flv?token=t', 'cam-1')).toBe('shared');
    expect(tierOfPlayUrl('rtmp://127.0.0.1:1935/raw/cam-1?token=t', 'cam-1')).toBe('other');
    expect(tierOfPlayUrl('http://127.0.0.1:8000/shared/cam-2.flv', 'cam-1')).toBe('other');
    expect(tierOfPlayUrl('http://127.0.0.1:8000/x/shared/cam-1.flv', 'cam-1')).toBe('other');
    expect(tierOfPlayUrl('not a url', 'cam-1')).toBe('other');
  });

  it('copies the video as an Annex-B elementary stream, H.264 or H.265, without re-encoding', () => {
    const h264 = liveReaderArgs('rtmp://h/shared/c', 'h264');
    expect(h264.slice(-9)).toEqual(['-map', '0:v:0', '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', 'pipe:1']);
    const h265 = liveReaderArgs('rtmp://h/shared/c', 'h265');
    expect(h265.slice(-5)).toEqual(['-bsf:v', 'hevc_mp4toannexb', '-f', 'hevc', 'pipe:1']);
    expect(h264).toContain('-nostdin');
  });
});
