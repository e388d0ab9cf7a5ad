import { describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../src/domain/index.js';
import {
  checkExport,
  clipArgs,
  concatList,
  cutRange,
  drawtextFilter,
  filterValue,
  MANIFEST_FORMAT,
  segmentsCovering,
  signedPayload,
  signManifest,
  watermarkText,
  type UnsignedManifest,
} from '../../../src/exports/index.js';
import { ChainSigner } from '../../../src/recording/index.js';

const signer = ChainSigner.generate();

function unsigned(): UnsignedManifest {
  return {
    format: MANIFEST_FORMAT,
    clip: { file: 'job.mp4', bytes: 1234, sha256: 'ab'.repeat(32) },
    request: {
      id: 'r1',
      kind: 'export',
      staff: [{ name: '张伟', unit: '城东' }],
      purpose: 'case',
      destination: 'file',
      approvedBy: 'ap',
      approvedAt: 'now',
    },
    cameraId: 'c1',
    range: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:00:10.000Z' },
    segments: [],
    exportedAt: '2026-01-02T00:00:00.000Z',
    exportedBy: 'officer',
    watermark: 'w',
    signer: { fingerprint: signer.fingerprint, publicKey: signer.publicKey.export({ type: 'spki', format: 'der' }).toString('base64') },
  };
}

const clip = { name: 'job.mp4', bytes: 1234, sha256: 'ab'.repeat(32) };
const kinds = (m: unknown, c = clip, trusted: string[] = []) =>
  checkExport(m, c, trusted).findings.map((f) => `${f.kind}:${f.field ?? ''}`);

describe('export manifest', () => {
  it('signs the canonical JSON without the signature, as jq -jcS del(.signature) prints it', () => {
    const m = signManifest(unsigned(), signer);
    const text = signedPayload(m).toString('utf8');
    expect(text.startsWith('{"cameraId":"c1","clip":{"bytes":1234')).toBe(true);
    expect(text).not.toContain('signature');
    expect(signedPayload(JSON.parse(JSON.stringify(m, null, 2)))).toEqual(signedPayload(m));
  });

  it('verifies, and names a changed clip, a changed clip field, any other field and an untrusted key', () => {
    const m = signManifest(unsigned(), signer);
    expect(kinds(m)).toEqual([]);
    expect(kinds(m, { ...clip, sha256: 'cd'.repeat(32) })).toEqual(['clip_changed:clip.sha256']);
    expect(kinds({ ...m, clip: { ...m.clip, bytes: 99 } })).toEqual(['field_changed:clip.bytes', 'signature_invalid:signature']);
    expect(kinds(m, { ...clip, name: 'renamed.mp4' })).toEqual(['field_changed:clip.file']);
    expect(kinds({ ...m, cameraId: 'c2' })).toEqual(['signature_invalid:signature']);
    expect(kinds(m, clip, ['SHA256:other'])).toEqual(['untrusted_key:signer']);
    expect(kinds(m, clip, [signer.fingerprint])).toEqual([]);
    const otherKey = ChainSigner.generate();
    expect(kinds({ ...m, signer: { ...m.signer, fingerprint: otherKey.fingerprint } })).toEqual([
      'key_mismatch:signer.fingerprint',
      'signature_invalid:signature',
    ]);
    expect(kinds({ format: 'nope' })).toEqual(['malformed:']);
  });
});

describe('watermark', () => {
  it('names the request, the officers and the export time', () => {
    expect(watermarkText({ requestId: 'r1', staffNames: ['张伟', '李娜'], exportedAt: 'T' })).toBe(
      '调取申请 Request r1\n调取人 Officers 张伟 / 李娜\n导出时间 Exported T',
    );
  });

  it('escapes file names for both filter graph levels, and reads the text from a file with expansion off', () => {
    expect(filterValue('/a:b/c')).toBe('/a\\\\:b/c');
    expect(filterValue("it's")).toBe("it\\\\\\'s");
    expect(filterValue('a,b[c]')).toBe('a\\,b\\[c\\]');
    const f = drawtextFilter({ fontFile: '/f.ttc', textFile: '/t.txt' });
    expect(f).toContain('fontfile=/f.ttc:textfile=/t.txt:expansion=none');
  });
});

describe('clip command', () => {
  const seg = (seq: number, startMs: number, endMs: number, deletedAt: string | null = null): ChainEntry => ({
    cameraId: 'c',
    seq,
    kind: 'segment',
    path: `c/${seq}.ts`,
    startMs,
    endMs,
    bytes: 1,
    sha256: '',
    partial: false,
    detail: {},
    prevHash: '',
    entryHash: '',
    at: '',
    deletedAt,
  });

  it('takes the live segments overlapping the range, in chain order', () => {
    const entries = [seg(3, 4000, 6000), seg(1, 0, 2000), seg(2, 2000, 4000, 'swept'), seg(4, 6000, 8000)];
    expect(segmentsCovering(entries, 1000, 6000).map((s) => s.seq)).toEqual([1, 3]);
  });

  it('cuts from the first segment start, clamped to what was recorded', () => {
    expect(cutRange([seg(1, 1000, 3000), seg(2, 3000, 5000)], 1500, 4500)).toEqual({
      offsetSeconds: 0.5,
      durationSeconds: 3,
      coveredFromMs: 1500,
      coveredToMs: 4500,
    });
    expect(cutRange([seg(1, 1000, 3000)], 0, 9000)).toMatchObject({ offsetSeconds: 0, durationSeconds: 2 });
    // A gap takes no time in the joined segments: reading the wall-clock span would run past the range's end.
    expect(cutRange([seg(1, 0, 2000), seg(2, 62_000, 64_000)], 1000, 63_000)).toMatchObject({
      offsetSeconds: 1,
      durationSeconds: 2,
      coveredToMs: 63_000,
    });
  });

  it('encodes H.264 MP4 with faststart, reporting progress', () => {
    const args = clipArgs({ listFile: 'l.txt', cut: { offsetSeconds: 1, durationSeconds: 2 }, filter: 'drawtext=x', output: 'o.part' });
    expect(args.join(' ')).toContain('-progress pipe:1');
    expect(args.join(' ')).toContain('-ss 1.000 -t 2.000 -f concat -safe 0 -i l.txt');
    expect(args.join(' ')).toContain('-c:v libx264');
    expect(args.join(' ')).toContain('-movflags +faststart -f mp4 -y o.part');
    expect(concatList(["/a/it's.ts"])).toBe("file '/a/it'\\''s.ts'\n");
  });
});
