/**
 * GB/T 28181 RecordInfo and playback from recordings (issue 13, Must show 5): a masked
 * camera records two runs with a gap between them; sipp plays the upper platform
 * (tests/fixtures/sipp/gb-playback.xml): a RecordInfo query gets both runs as separate
 * items, one per MESSAGE, SumNum 2 in each; a Playback INVITE for the recorded range gets
 * PS over RTP with the requested SSRC, H.264 at the camera's size, the mask region flat
 * where the raw recording has detail; MANSRTSP PAUSE stops the packets, PLAY resumes them,
 * Scale 2 doubles the frame pace, Range npt=0- goes back to the start; at the end of the
 * range the gateway sends MediaStatus 121 in the dialog, and the session is in the access
 * register with the recorded range.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRtpPacket, RtpDepacketizer } from '../../../src/platform/gb28181/media/rtp.js';
import { gbLocalTime } from '../../../src/platform/gb28181/playback.js';
import { addCamera } from '../../helpers/cameraSteps.js';
import { grayFrame, regionStats, type Region } from '../../helpers/frames.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, ffprobeStreams, requireTool, streamOf } from '../../helpers/media.js';
import { freePorts } from '../../helpers/ports.js';
import { recordingList, type SegmentView } from '../../helpers/recordings.js';
import { sendSippGo, sippTrace } from '../../helpers/sipp.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const SIPP = '/usr/bin/sipp';
const SCENARIO = join(import.meta.dirname, '../../fixtures/sipp/gb-playback.xml');
/** Small frames: at Scale 2 the masked re-encode must run at twice real time on a loaded CI machine. */
const SIZE = { width: 320, height: 180 };
const FPS = 25;
const SEGMENT_SECONDS = 2;
/** Segments per recording run: two runs hold more media than the scenario plays before it seeks back (12 s). */
/** How long the camera stays away: the recording's gap must be wider than RecordInfo's run tolerance. */
const OUTAGE_MS = 5000;
const SEGMENTS_PER_RUN = 5;
const SSRC = 1_100_000_001;
const MASK: Region = { x: 0.05, y: 0.1, w: 0.3, h: 0.4 };

describe('GB/T 28181 RecordInfo and playback against sipp as the upper platform', () => {
  let gw: GatewayProcess;
  let camera: TestCamera;
  let cameraId: string;
  let dir: string;
  let sipp: ChildProcess;
  let traceFile: string;
  let rtp: Socket;
  let segments: SegmentView[];
  /** Arrival time and RTP timestamp of every complete frame, and the frames themselves. */
  const frames: { at: number; ts: number; data: Buffer }[] = [];
  const ssrcs = new Set<number>();

  beforeAll(async () => {
    expect(existsSync(SIPP), 'sipp is needed: apt-get install sip-tester').toBe(true);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    dir = mkdtempSync(join(tmpdir(), 'psvgw-playback-'));
    rtp = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    const depacketizer = new RtpDepacketizer({ payloadType: 96 });
    rtp.on('message', (packet) => {
      ssrcs.add(parseRtpPacket(packet).ssrc);
      for (const f of depacketizer.push(packet)) if (f.complete) frames.push({ at: Date.now(), ts: f.timestamp, data: f.data });
    });
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', resolve));
    const [sipPort, sippPort] = (await freePorts(2)) as [number, number];
    traceFile = join(dir, 'sipp.trace');
    sipp = spawn(
      SIPP,
      [
        ...['-sf', SCENARIO, '-i', '127.0.0.1', '-p', String(sippPort), '-m', '100', '-nostdin'],
        ...['-key', 'rtpport', String(rtp.address().port), '-timeout', '150s', '-timeout_error'],
        ...['-trace_msg', '-message_file', traceFile, '-trace_err', '-error_file', join(dir, 'sipp.errors')],
      ],
      { stdio: 'ignore', cwd: dir },
    );
    camera = await TestCamera.start({ ...SIZE, fps: FPS, pattern: 'snow' });
    gw = await GatewayProcess.start({
      configYaml: [
        `recording:\n  segmentSeconds: ${SEGMENT_SECONDS}`,
        'ingest:\n  backoff:\n    initialMs: 300\n    maxMs: 1000',
        'gb28181:',
        '  sipHost: 127.0.0.1',
        `  sipPort: ${sipPort}`,
        '  platforms:',
        '    - name: city',
        '      serverId: "34020000002000000001"',
        '      serverDomain: "3402000000"',
        '      host: 127.0.0.1',
        `      port: ${sippPort}`,
        '      deviceId: "34020000001180000009"',
        '      keepaliveSeconds: 60',
        // One record per MESSAGE: the two runs need two messages.
        '      catalogItemsPerMessage: 1',
      ].join('\n'),
      env: { PSVGW_PLATFORM_CITY_PASSWORD: 'sipp-secret' },
    });
    cameraId = (await addCamera(gw, camera.url, 'GB playback gate', { masks: [{ shape: 'rect', ...MASK, mode: 'fill' }] })).id;
    const recorded = async (pred: (l: Awaited<ReturnType<typeof recordingList>>) => boolean) => pred(await recordingList(gw, cameraId));
    await gw.waitFor('first run recorded', () => recorded((l) => l.segments.length >= SEGMENTS_PER_RUN), 60_000, 500);
    // A gap: the camera goes away until the gateway has opened a gap in the recording, then returns.
    const stopAt = Date.now();
    await camera.stop();
    await gw.waitFor(
      'a gap opened',
      () => recorded((l) => l.gaps.some((g) => g.end === null && Date.parse(g.start) >= stopAt - 5000)),
      30_000,
      300,
    );
    // The ingest is back within about a second of the camera: keep it away long enough for a gap
    // wider than RecordInfo's run tolerance (1.5 s).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, stopAt + OUTAGE_MS - Date.now())));
    const backAt = Date.now();
    await camera.restart();
    await gw.waitFor(
      'second run recorded',
      () => recorded((l) => l.segments.filter((s) => Date.parse(s.start) >= backAt).length >= SEGMENTS_PER_RUN),
      60_000,
      500,
    );
    segments = (await recordingList(gw, cameraId)).segments;
    await gw.waitFor(
      'platform registered',
      async () => (await gw.api<{ registered: boolean }>('GET', '/api/v1/platforms/city')).body.registered,
      30_000,
    );
    // The go: the channel, the recorded range in Unix seconds (t=) and in local time (RecordInfo).
    const startMs = Date.parse(segments[0]!.start);
    const endMs = Date.parse(segments[segments.length - 1]!.end);
    const subject = [
      cameraId,
      Math.floor(startMs / 1000),
      Math.ceil(endMs / 1000),
      gbLocalTime(startMs - 60_000),
      gbLocalTime(endMs + 60_000),
    ];
    await sendSippGo({ sippPort, traceFile, subject: subject.join(','), viaPort: rtp.address().port });
  }, 180_000);

  afterAll(async () => {
    sipp?.kill('SIGTERM');
    rtp?.close();
    await stopAllGateways();
    await stopAllTestCameras();
    if (dir !== undefined && process.env.KEEP_SIPP === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('RecordInfo lists the two recorded runs as separate items, one per MESSAGE under the UDP limit, SumNum 2 in each', async () => {
    const answers = () =>
      sippTrace(traceFile).filter((m) => !m.sent && m.text.startsWith('MESSAGE ') && m.text.includes('<CmdType>RecordInfo</CmdType>'));
    await gw.waitFor('two RecordInfo MESSAGEs', () => answers().length >= 2, 20_000, 200);
    const msgs = answers();
    expect(msgs).toHaveLength(2);
    const items = msgs.flatMap((m) => {
      expect(m.bytes).toBeLessThanOrEqual(1400);
      expect(m.text).toMatch(/<SumNum>2<\/SumNum>/);
      expect(m.text).toMatch(/<RecordList Num="1">/);
      return [...m.text.matchAll(/<Item>([\s\S]*?)<\/Item>/g)].map((i) => i[1]!);
    });
    const field = (item: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(item)?.[1];
    const gapStart = segments.findIndex((s, i) => i > 0 && Date.parse(s.start) - Date.parse(segments[i - 1]!.end) > 1500);
    expect(gapStart, 'the recording has a gap').toBeGreaterThan(0);
    const runs = [
      [segments[0]!, segments[gapStart - 1]!],
      [segments[gapStart]!, segments[segments.length - 1]!],
    ];
    items.forEach((item, i) => {
      expect(field(item, 'DeviceID')).toBe(cameraId);
      expect(field(item, 'Name')).toBe('GB playback gate');
      expect(field(item, 'Secrecy')).toBe('0');
      expect(field(item, 'Type')).toBe('time');
      expect(field(item, 'RecorderID')).toBe('34020000001180000009');
      expect(field(item, 'FilePath')).toBeTruthy();
      const [first, last] = runs[i]!;
      expect(field(item, 'StartTime')).toBe(gbLocalTime(Date.parse(first!.start)));
      expect(field(item, 'EndTime')).toBe(gbLocalTime(Date.parse(last!.end)));
    });
  });

  it('Playback streams the recorded range masked; PAUSE stops the packets, PLAY resumes, Scale 2 doubles the pace, npt=0 seeks back; MediaStatus 121 at the end', async () => {
    const infoSent = (what: RegExp) => sippTrace(traceFile).find((m) => m.sent && m.text.startsWith('INFO ') && what.test(m.text))?.at;
    await gw.waitFor('the seek sent', () => infoSent(/Range: npt=0-/) !== undefined, 60_000, 200);
    const pauseAt = infoSent(/^PAUSE RTSP/m)!;
    const playAt = infoSent(/Range: npt=now-/)!;
    const scaleAt = infoSent(/Scale: 2/)!;
    const seekAt = infoSent(/Range: npt=0-/)!;
    // sipp answers MediaStatus 121 (its regexp checked) and BYEs; the gateway answers the BYE.
    await gw.waitFor(
      'MediaStatus 121 answered and the BYE done',
      () => sippTrace(traceFile).some((m) => !m.sent && m.text.startsWith('SIP/2.0 200') && /CSeq:\s*6 BYE/i.test(m.text)),
      40_000,
      200,
    );
    const status = sippTrace(traceFile).find(
      (m) => !m.sent && m.text.startsWith('MESSAGE ') && m.text.includes('<CmdType>MediaStatus</CmdType>'),
    );
    expect(status?.text).toMatch(/<NotifyType>121<\/NotifyType>/);
    expect(status?.text).toMatch(/Call-ID:\s*p\/\/\//i);
    expect([...ssrcs]).toEqual([SSRC]);

    // H.264 PS at the camera's size, the mask region flat where the raw recording has detail.
    const file = join(dir, 'playback.ps');
    writeFileSync(file, Buffer.concat(frames.map((f) => f.data)));
    expect(streamOf(await ffprobeStreams(file), 'video')).toMatchObject({ codec_name: 'h264', width: SIZE.width, height: SIZE.height });
    const recDir = join(gw.dataDir, 'data', 'recordings');
    const raw = regionStats(await grayFrame(join(recDir, segments[1]!.path), SIZE), MASK).edge;
    const masked = regionStats(await grayFrame(file, SIZE), MASK).edge;
    expect(raw).toBeGreaterThan(10);
    expect(masked).toBeLessThan(0.1 * raw);

    // Frames per second of wall time within a window (edges left out: the INFO takes a moment to act).
    const rate = (from: number, to: number) => frames.filter((f) => f.at >= from && f.at < to).length / ((to - from) / 1000);
    expect(rate(pauseAt + 500, playAt), 'frames while paused').toBe(0);
    const normal = rate(playAt + 500, scaleAt);
    const doubled = rate(scaleAt + 500, seekAt);
    expect(normal, 'real-time pace after PLAY').toBeGreaterThan(FPS * 0.7);
    expect(normal).toBeLessThan(FPS * 1.3);
    expect(doubled / normal, 'Scale 2 against real time').toBeGreaterThan(1.5);
    expect(doubled / normal).toBeLessThan(2.5);
    // The seek: media time (RTP timestamps from the first frame's, which is random) goes back to the range's start.
    const media = (f: { ts: number }) => (f.ts - frames[0]!.ts) >>> 0;
    const before = frames.filter((f) => f.at < seekAt);
    const after = frames.filter((f) => f.at > seekAt + 500);
    expect(Math.max(...before.map(media))).toBeGreaterThan(8 * 90_000);
    expect(Math.min(...after.map(media))).toBeLessThan(2 * 90_000);

    type Row = {
      method: string;
      tier: string;
      destination: string | null;
      protocol: string | null;
      footageFrom: string;
      footageTo: string;
      cameraIds: string[];
      bytes: number;
    };
    let rows: Row[] = [];
    await gw.waitFor(
      'the playback in the access register',
      async () => {
        const res = await gw.api<{ items: Row[] }>('GET', '/api/v1/access-register');
        rows = (res.body.items ?? []).filter((r) => r.protocol === 'gb28181-playback');
        return rows.length === 1;
      },
      10_000,
      300,
    );
    expect(rows[0]).toMatchObject({ method: 'platform_play', tier: 'shared', destination: 'city', cameraIds: [cameraId] });
    expect(rows[0]!.bytes).toBeGreaterThan(0);
    expect(Math.abs(Date.parse(rows[0]!.footageFrom) - Date.parse(segments[0]!.start))).toBeLessThan(1000);
    expect(Math.abs(Date.parse(rows[0]!.footageTo) - Date.parse(segments[segments.length - 1]!.end))).toBeLessThan(1000);
    const audit = await gw.api<{ items: { action: string; details: { kind?: string } }[] }>(
      'GET',
      '/api/v1/audit?action=platform.session.control',
    );
    expect(audit.body.items.length).toBe(4);
  });
});
