/**
 * GB/T 28181 live play end to end (issue 13, Must show 2 and 3 over UDP): sipp plays the upper
 * platform (tests/fixtures/sipp/gb-live-invite.xml), registers the gateway, INVITEs the masked
 * camera with its SDP pointing at this test's UDP socket, ACKs and BYEs. The RTP is
 * depacketized here: the requested SSRC, H.264 PS at the camera's size and rate from a key frame, the mask region flat; BYE
 * stops it within a second; a second INVITE for the same channel and destination replaces the
 * first (the gateway BYEs it); a TCP INVITE with a=setup:passive (the platform listens) gets
 * RFC 4571 framed RTP on the test's listener, one with a=setup:active (the platform connects)
 * on the port the answer names, and resetting that connection makes the gateway BYE it; an
 * unmasked H.265 camera is played as its own H.265 over UDP, and closing that receiver (ICMP port
 * unreachable) makes the gateway BYE it; stopping the camera makes the gateway send BYE, a Catalog
 * NOTIFY OFF in the platform's catalog subscription and an Alarm, starting it again a NOTIFY ON,
 * renaming it a NOTIFY UPDATE; the sessions are in the access register as platform plays of the
 * shared tier.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { parseRtpPacket, Rfc4571Deframer, RtpDepacketizer } from '../../../src/platform/gb28181/media/rtp.js';
import { addCamera, streamUrls } from '../../helpers/cameraSteps.js';
import { grayFrame, regionStats, type GrayFrame, type Region } from '../../helpers/frames.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { FFMPEG_INSTALL_HINT, requireTool } from '../../helpers/media.js';
import { freePorts } from '../../helpers/ports.js';
import { probePsVideo, psmStreamTypes } from '../../helpers/psStream.js';
import { SIPP, sendSippGo, sippTrace } from '../../helpers/sipp.js';
import { TestCamera, stopAllTestCameras } from '../../helpers/testCamera.js';

const SCENARIO = join(import.meta.dirname, '../../fixtures/sipp/gb-live-invite.xml');
const SIZE = { width: 640, height: 360 };
const FPS = 25;
/** The y= of the scenario's INVITEs, as RTP SSRC values. */
const SSRC = { a: 100_000_001, b: 100_000_002, c: 100_000_003, d: 100_000_004, e: 100_000_005, f: 100_000_006 };
/** The H.265 camera: another size and rate than the H.264 one, so the checks cannot pass on the wrong stream. */
const HEVC = { width: 320, height: 240, fps: 15 };
/** The H.265 camera wants a login: its session sends the camera's own video, and the password must not show. */
const HEVC_LOGIN = { user: 'gbviewer', password: 'hevc-Secret-9' };
const MASK: Region = { x: 0.05, y: 0.1, w: 0.3, h: 0.4 };

/** Every RTP packet that arrived, per SSRC, with its arrival time. */
class Receiver {
  readonly streams = new Map<number, { at: number[]; depacketizer: RtpDepacketizer; frames: Buffer[] }>();

  push(packet: Buffer): void {
    const ssrc = parseRtpPacket(packet).ssrc;
    let s = this.streams.get(ssrc);
    if (s === undefined) {
      s = { at: [], depacketizer: new RtpDepacketizer({ payloadType: 96 }), frames: [] };
      this.streams.set(ssrc, s);
    }
    s.at.push(Date.now());
    for (const frame of s.depacketizer.push(packet)) if (frame.complete) s.frames.push(frame.data);
  }

  frames(ssrc: number): number {
    return this.streams.get(ssrc)?.frames.length ?? 0;
  }
}

/** ffprobe reads the PS file as `codec` at this size and rate, and its first frame is a key frame. */
async function expectPsVideo(file: string, codec: string, size: { width: number; height: number }, fps: number): Promise<void> {
  expect(await probePsVideo(file)).toEqual({ codec, ...size, rate: `${fps}/1`, firstKeyFrame: true });
}

/** Why the gateway ended the session with this SSRC, from the audit chain (platform.session.end). */
async function endReason(gw: GatewayProcess, ssrc: string): Promise<string | undefined> {
  type Item = { details: { ssrc?: string; reason?: string } };
  const res = await gw.api<{ items: Item[] }>('GET', '/api/v1/audit?action=platform.session.end');
  return res.body.items.find((i) => i.details.ssrc === ssrc)?.details.reason;
}

describe('GB/T 28181 live INVITE against sipp as the upper platform', () => {
  let gw: GatewayProcess;
  let camera: TestCamera;
  let cameraId: string;
  let hevcCamera: TestCamera;
  let hevcId: string;
  let rtp2: Socket;
  const receiver2 = new Receiver();
  let dir: string;
  let sipp: ChildProcess;
  let sippExit: Promise<number | null>;
  let traceFile: string;
  let rtp: Socket;
  let sippPort: number;
  let rawFrame: GrayFrame;
  let tcp: Server;
  const tcpReceiver = new Receiver();
  const receiver = new Receiver();
  let receiverClosed = false;

  beforeAll(async () => {
    expect(existsSync(SIPP), 'sipp is needed: apt-get install sip-tester').toBe(true);
    requireTool('ffprobe', FFMPEG_INSTALL_HINT);
    dir = mkdtempSync(join(tmpdir(), 'psvgw-invite-'));
    // A platform's media receiver reads with a large socket buffer (the first GOP comes at once).
    rtp = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    rtp.on('message', (packet) => receiver.push(packet));
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', resolve));
    rtp2 = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    rtp2.on('message', (packet) => receiver2.push(packet));
    await new Promise<void>((resolve) => rtp2.bind(0, '127.0.0.1', resolve));
    // The platform's TCP media listener (a=setup:passive): RFC 4571 framed RTP.
    tcp = createServer((socket) => {
      const deframer = new Rfc4571Deframer();
      socket.on('data', (chunk: Buffer) => {
        for (const packet of deframer.push(chunk)) tcpReceiver.push(packet);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const tcpPort = (tcp.address() as { port: number }).port;
    const [sipPort, platformPort] = (await freePorts(2)) as [number, number];
    sippPort = platformPort;
    traceFile = join(dir, 'sipp.trace');
    sipp = spawn(
      SIPP,
      [
        ...['-sf', SCENARIO, '-i', '127.0.0.1', '-p', String(sippPort), '-m', '2', '-nostdin'],
        ...['-key', 'rtpport', String(rtp.address().port), '-key', 'tcpport', String(tcpPort)],
        ...['-key', 'rtpport2', String(rtp2.address().port), '-timeout', '150s', '-timeout_error'],
        ...['-trace_msg', '-message_file', traceFile, '-trace_err', '-error_file', join(dir, 'sipp.errors')],
      ],
      { stdio: 'ignore', cwd: dir },
    );
    sippExit = new Promise((resolve) => sipp.on('exit', (code) => resolve(code)));
    camera = await TestCamera.start({ ...SIZE, fps: FPS, pattern: 'snow' });
    hevcCamera = await TestCamera.start({ width: HEVC.width, height: HEVC.height, fps: HEVC.fps, codec: 'h265', ...HEVC_LOGIN });
    gw = await GatewayProcess.start({
      configYaml: [
        'ingest:\n  backoff:\n    initialMs: 300\n    maxMs: 2000',
        // No image checks: sipp takes one Alarm, the camera outage's; the H.265 camera's dark ball picture could raise another.
        'diagnostics:\n  enabled: false',
        'gb28181:',
        '  sipHost: 127.0.0.1',
        `  sipPort: ${sipPort}`,
        '  platforms:',
        '    - name: live',
        '      serverId: "34020000002000000001"',
        '      serverDomain: "3402000000"',
        '      host: 127.0.0.1',
        `      port: ${sippPort}`,
        '      deviceId: "34020000001180000009"',
        // No keepalive during the run: sipp follows a fixed script.
        '      keepaliveSeconds: 3600',
      ].join('\n'),
      env: { PSVGW_PLATFORM_LIVE_PASSWORD: 'sipp-secret' },
    });
    cameraId = (await addCamera(gw, camera.url, 'GB live gate', { masks: [{ shape: 'rect', ...MASK, mode: 'fill' }] })).id;
    // No mask: the shared tier mirrors the raw tier, so a platform gets the camera's own H.265.
    hevcId = (await addCamera(gw, hevcCamera.url, 'GB H.265 gate')).id;
    await gw.waitFor(
      'shared tiers up and platform registered',
      async () =>
        (await gw.metric('psvgw_shared_tier_up', { camera_id: cameraId })) === 1 &&
        (await gw.metric('psvgw_shared_tier_up', { camera_id: hevcId })) === 1 &&
        (await gw.api<{ registered: boolean }>('GET', '/api/v1/platforms/live')).body.registered,
      30_000,
    );
    rawFrame = await grayFrame((await streamUrls(gw, cameraId)).raw.httpFlv, SIZE);
    // The go: an OPTIONS in the REGISTER's Call-ID tells sipp which channels to play.
    await sendSippGo({ sippPort, traceFile, subject: `${cameraId} ${hevcId}`, viaPort: rtp.address().port });
  }, 60_000);

  afterAll(async () => {
    sipp?.kill('SIGTERM');
    rtp?.close();
    if (!receiverClosed) rtp2?.close();
    tcp?.close();
    await stopAllGateways();
    await stopAllTestCameras();
    if (dir !== undefined && process.env.KEEP_SIPP === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('INVITE → 200 with the answer SDP → ACK: PS over RTP with the requested SSRC, H.264 at the camera size from a key frame; BYE stops it within 1 s', async () => {
    await gw.waitFor('25 PS frames of session A', async () => receiver.frames(SSRC.a) >= 25, 20_000, 100);
    // A figure, not a check: from sipp's INVITE (its trace's clock) to the first RTP packet here.
    const invited = sippTrace(traceFile).find((m) => m.sent && m.text.startsWith('INVITE ') && /CSeq:\s*1 INVITE/i.test(m.text));
    const firstRtp = receiver.streams.get(SSRC.a)?.at[0];
    if (invited !== undefined && firstRtp !== undefined) console.log(`INVITE sent → first RTP packet: ${firstRtp - invited.at} ms`);
    const sessions = (await gw.api<{ sessions: { channel: string; ssrc: string; transport: string }[] }>('GET', '/api/v1/platforms/live'))
      .body.sessions;
    expect(sessions).toContainEqual(expect.objectContaining({ channel: cameraId, ssrc: '0100000001', transport: 'udp' }));
    expect(await gw.metric('psvgw_gb28181_sessions', { platform: 'live' })).toBe(1);
    const answer = sippTrace(traceFile).find((m) => !m.sent && m.text.startsWith('SIP/2.0 200') && /CSeq:\s*1 INVITE/i.test(m.text));
    expect(answer?.text).toMatch(/a=sendonly/);
    expect(answer?.text).toMatch(/y=0100000001/);
    expect(answer?.text).toMatch(/^Contact:/im);
    // The catalog subscription (before the INVITE): 200 with Expires, both cameras in the NOTIFYs as ADD, online.
    const subscribed = sippTrace(traceFile).find((m) => !m.sent && m.text.startsWith('SIP/2.0 200') && /CSeq:\s*1 SUBSCRIBE/i.test(m.text));
    expect(subscribed?.text).toMatch(/^Expires:\s*3600/im);
    const notifies = sippTrace(traceFile).filter((m) => !m.sent && m.text.startsWith('NOTIFY '));
    expect(notifies[0]?.text).toMatch(/^Event:\s*Catalog;id=1/im);
    for (const id of [cameraId, hevcId]) {
      const added = new RegExp(`<DeviceID>${id}</DeviceID>\\s*<Event>ADD</Event>[\\s\\S]*?<Status>ON</Status>`);
      expect(
        notifies.some((m) => added.test(m.text)),
        `${id} listed as ADD, online`,
      ).toBe(true);
    }

    const a = receiver.streams.get(SSRC.a)!;
    const file = join(dir, 'a.ps');
    writeFileSync(file, Buffer.concat(a.frames));
    await expectPsVideo(file, 'h264', SIZE, FPS);
    // The masked region is flat where the raw tier has detail.
    const masked = regionStats(await grayFrame(file, SIZE), MASK).edge;
    const raw = regionStats(rawFrame, MASK).edge;
    expect(raw).toBeGreaterThan(10);
    expect(masked).toBeLessThan(0.1 * raw);

    // sipp BYEs 4 s after its ACK; the gateway's 200 comes once the sender stopped.
    await gw.waitFor(
      "sipp's BYE of session A answered",
      () => sippTrace(traceFile).some((m) => !m.sent && m.text.startsWith('SIP/2.0 200') && /CSeq:\s*2 BYE/i.test(m.text)),
      15_000,
      100,
    );
    const bye = sippTrace(traceFile).find((m) => m.sent && m.text.startsWith('BYE '))!;
    const last = a.at[a.at.length - 1]!;
    expect(last - bye.at, 'last packet of A after the BYE (ms)').toBeLessThan(1000);
  });

  it('a second INVITE for the same channel and destination replaces the first: the gateway BYEs it, one stream at a time', async () => {
    await gw.waitFor('session C streaming', async () => receiver.frames(SSRC.c) >= 10, 30_000, 100);
    const b = receiver.streams.get(SSRC.b)!;
    const c = receiver.streams.get(SSRC.c)!;
    expect(b.frames.length).toBeGreaterThan(10);
    // B stopped before C was answered: no packet of B after C's first.
    expect(b.at[b.at.length - 1]!).toBeLessThanOrEqual(c.at[0]!);
    // One session to this destination (D, to the TCP listener, is another destination and may run beside it).
    const sessions = (await gw.api<{ sessions: { ssrc: string; transport: string }[] }>('GET', '/api/v1/platforms/live')).body.sessions;
    expect(sessions.filter((s) => s.transport === 'udp').map((s) => s.ssrc)).toEqual(['0100000003']);
    // Every packet carried the SSRC its INVITE asked for.
    expect([...receiver.streams.keys()].sort()).toEqual([SSRC.a, SSRC.b, SSRC.c]);
  });

  it('TCP, a=setup:passive (the platform listens): the gateway connects out; RFC 4571 framed RTP with the SSRC, H.264 at the camera size and rate from a key frame', async () => {
    await gw.waitFor('25 PS frames of session D over TCP', () => tcpReceiver.frames(SSRC.d) >= 25, 20_000, 100);
    expect([...tcpReceiver.streams.keys()]).toEqual([SSRC.d]);
    const file = join(dir, 'd.ps');
    writeFileSync(file, Buffer.concat(tcpReceiver.streams.get(SSRC.d)!.frames));
    await expectPsVideo(file, 'h264', SIZE, FPS);
    // sipp BYEs D after 4 s; the camera is stopped only after, so the gateway's BYE goes to C alone.
    await gw.waitFor(
      "sipp's BYE of session D answered",
      () =>
        sippTrace(traceFile).some(
          (m) => !m.sent && m.text.startsWith('SIP/2.0 200') && /Call-ID:\s*d\/\/\//i.test(m.text) && /CSeq:\s*2 BYE/i.test(m.text),
        ),
      15_000,
      100,
    );
  });

  it('TCP, a=setup:active (the platform connects): the answer names the port the gateway listens on; a reset connection ends the session with a BYE', async () => {
    const sipOf = (m: { text: string }, first: RegExp) => first.test(m.text) && /Call-ID:\s*e\/\/\//i.test(m.text);
    let answer: string | undefined;
    await gw.waitFor(
      'the 200 to INVITE E',
      () => (answer = sippTrace(traceFile).find((m) => !m.sent && sipOf(m, /^SIP\/2\.0 200[\s\S]*CSeq:\s*1 INVITE/i))?.text) !== undefined,
      30_000,
      100,
    );
    expect(answer).toMatch(/^a=setup:passive/m);
    const port = Number(/^m=video (\d+) TCP\/RTP\/AVP 96/m.exec(answer!)?.[1]);
    expect(port).toBeGreaterThan(9);
    const eReceiver = new Receiver();
    const deframer = new Rfc4571Deframer();
    const socket: TcpSocket = connect({ host: '127.0.0.1', port });
    socket.on('data', (chunk: Buffer) => {
      for (const packet of deframer.push(chunk)) eReceiver.push(packet);
    });
    socket.on('error', () => undefined);
    await gw.waitFor('25 PS frames of session E over TCP', () => eReceiver.frames(SSRC.e) >= 25, 20_000, 100);
    expect([...eReceiver.streams.keys()]).toEqual([SSRC.e]);
    const file = join(dir, 'e.ps');
    writeFileSync(file, Buffer.concat(eReceiver.streams.get(SSRC.e)!.frames));
    await expectPsVideo(file, 'h264', SIZE, FPS);
    // A dead receiver: the connection reset (RST) ends the session and the gateway BYEs it.
    const resetAt = Date.now();
    socket.resetAndDestroy();
    await gw.waitFor('the gateway BYEs E', () => sippTrace(traceFile).some((m) => !m.sent && sipOf(m, /^BYE /)), 10_000, 100);
    const bye = sippTrace(traceFile).find((m) => !m.sent && sipOf(m, /^BYE /))!;
    expect(bye.at - resetAt, 'BYE after the reset (ms)').toBeLessThan(5000);
    expect(await endReason(gw, '0100000005')).toMatch(/^receiver-closed/);
  });

  it('an unmasked H.265 camera is played at its size and rate from a key frame as its own H.265 (PSM stream type 0x24) as the ingest copies it, the camera password never shown; a closed UDP receiver ends the session with a BYE', async () => {
    await gw.waitFor('15 PS frames of session F', () => receiver2.frames(SSRC.f) >= 15, 30_000, 100);
    expect([...receiver2.streams.keys()]).toEqual([SSRC.f]);
    const ps = Buffer.concat(receiver2.streams.get(SSRC.f)!.frames);
    const file = join(dir, 'f.ps');
    writeFileSync(file, ps);
    // The live tiers are H.264 (FLV; ingest.h265Live), but a mirrored tier's picture is the camera's: the ingest copies its H.265.
    await expectPsVideo(file, 'hevc', { width: HEVC.width, height: HEVC.height }, HEVC.fps);
    expect(psmStreamTypes(ps)).toEqual([0x24]);
    const live = await gw.api('GET', '/api/v1/platforms/live');
    const sessions = (live.body as { sessions: { ssrc: string; reads: string; codec: string }[] }).sessions;
    expect(sessions).toContainEqual(expect.objectContaining({ ssrc: '0100000006', reads: 'camera', codec: 'h265' }));
    expect(JSON.stringify(live.body)).not.toContain(HEVC_LOGIN.password);
    // A dead receiver over UDP: the port closes, the next datagrams get ICMP port unreachable.
    rtp2.close();
    receiverClosed = true;
    const isByeF = (m: { sent: boolean; text: string }) => !m.sent && m.text.startsWith('BYE ') && /Call-ID:\s*f\/\/\//i.test(m.text);
    await gw.waitFor('the gateway BYEs F', () => sippTrace(traceFile).some(isByeF), 10_000, 100);
    expect(await endReason(gw, '0100000006')).toMatch(/^receiver-unreachable/);
    expect(gw.logs.join('\n')).not.toContain(HEVC_LOGIN.password);
  });

  it('stopping the camera ends the session with a BYE, a Catalog NOTIFY OFF and an Alarm; back, a NOTIFY ON; renamed, a NOTIFY UPDATE; the register lists the plays', async () => {
    await camera.stop();
    // sipp goes on to wait for the NOTIFY ON once it answered the BYE of C and the NOTIFY OFF; the Alarm is its second call.
    const fromGateway = (start: string, body: RegExp) =>
      sippTrace(traceFile).find((m) => !m.sent && m.text.startsWith(start) && body.test(m.text));
    await gw.waitFor(
      'BYE of C, NOTIFY OFF and Alarm at sipp',
      () =>
        sippTrace(traceFile).some((m) => !m.sent && m.text.startsWith('BYE ') && /Call-ID:\s*c\/\/\//i.test(m.text)) &&
        fromGateway('NOTIFY ', /<Event>OFF<\/Event>/) !== undefined &&
        fromGateway('MESSAGE ', /<CmdType>Alarm<\/CmdType>/) !== undefined,
      40_000,
      200,
    );
    expect(fromGateway('NOTIFY ', /<Event>OFF<\/Event>/)?.text).toMatch(
      new RegExp(`Subscription-State:\\s*active[\\s\\S]*<DeviceID>${cameraId}</DeviceID>\\s*<Event>OFF</Event>`, 'i'),
    );
    // The mandatory alarm fields (GB/T 28181-2016 A.2.5): a video loss (device alarm, type 1) of the channel.
    const alarm = fromGateway('MESSAGE ', /<CmdType>Alarm<\/CmdType>/)?.text ?? '';
    expect(alarm).toMatch(new RegExp(`<DeviceID>${cameraId}</DeviceID>`));
    expect(alarm).toMatch(/<AlarmPriority>1<\/AlarmPriority>\s*<AlarmMethod>2<\/AlarmMethod>/);
    expect(alarm).toMatch(/<AlarmTime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}<\/AlarmTime>/);
    expect(alarm).toMatch(/<AlarmDescription>[^<]+<\/AlarmDescription>/);
    expect(alarm).toMatch(/<Info>\s*<AlarmType>1<\/AlarmType>\s*<\/Info>/);

    await camera.restart();
    await gw.waitFor('NOTIFY ON at sipp', () => fromGateway('NOTIFY ', /<Event>ON<\/Event>/) !== undefined, 30_000, 200);
    // A change of the shared set's items (here a rename) is a NOTIFY UPDATE.
    const renamed = await gw.api('PATCH', `/api/v1/cameras/${cameraId}`, { name: 'GB live gate renamed' });
    expect(renamed.status).toBe(200);
    // sipp exits 0 only once both calls passed: the NOTIFY ON and UPDATE came too, and the Alarm's fields matched.
    const code = await Promise.race([sippExit, new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000))]);
    const errors = join(dir, 'sipp.errors');
    expect(code, existsSync(errors) ? readFileSync(errors, 'utf8').slice(-2000) : 'no sipp error file').toBe(0);
    expect(fromGateway('NOTIFY ', /<Event>ON<\/Event>/)?.text).toMatch(new RegExp(`<DeviceID>${cameraId}</DeviceID>\\s*<Event>ON</Event>`));
    await gw.waitFor('no session left', async () => (await gw.metric('psvgw_gb28181_sessions', { platform: 'live' })) === 0, 5_000);
    type Row = { method: string; tier: string; destination: string | null; bytes: number; cameraIds: string[] };
    let rows: Row[] = [];
    await gw.waitFor(
      'six platform plays in the register (A to F)',
      async () => {
        const res = await gw.api<{ items: Row[] }>('GET', '/api/v1/access-register');
        rows = (res.body.items ?? []).filter((r) => r.method === 'platform_play' && r.destination === 'live');
        return rows.length >= 6;
      },
      10_000,
      300,
    );
    for (const row of rows) expect(row).toMatchObject({ tier: 'shared' });
    expect(rows.filter((r) => r.cameraIds[0] === cameraId)).toHaveLength(5);
    expect(rows.filter((r) => r.cameraIds[0] === hevcId)).toHaveLength(1);
    expect(rows.every((r) => r.bytes > 0)).toBe(true);
    const audit = await gw.api<{ items: { action: string }[] }>('GET', '/api/v1/audit?action=platform.session.end');
    expect(audit.body.items.length).toBeGreaterThanOrEqual(6);
  }, 120_000);
});
