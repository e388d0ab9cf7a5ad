/**
 * GB/T 28181 signalling against sipp playing three upper platforms, one gateway: REGISTER
 * challenged with 401 and accepted (digest checked by sipp), keepalives at the interval, a
 * Catalog query answered with every camera over several MESSAGEs under the UDP size limit
 * with a stable SumNum, and a wrong password (403) shown in the platform state, the
 * metrics and the incidents, and retried. The catalog platform is added through the API (approved by a second
 * admin), the others come from the config file, so both paths are proven. Each link loss (keepalives unanswered over UDP
 * with only ICMP coming back, a wrong password, a platform with nothing listening) is a row
 * of the outage ledger, closed when the link is back (issue 13, Must show 4).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../bench/stats.js';
import { approvedBySecondAdmin } from '../../helpers/changeSteps.js';
import { ADMIN_TOKEN, CLI_PATH, GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { freePorts } from '../../helpers/ports.js';
import { received, SIPP, startSipp, type Sipp } from '../../helpers/sipp.js';

const CAMERAS = 8;

function platformYaml(name: string, serverId: string, port: number, deviceId: string, keepalive: number, extra = ''): string {
  return [
    `    - name: ${name}`,
    `      serverId: "${serverId}"`,
    `      serverDomain: "3402000000"`,
    `      host: 127.0.0.1`,
    `      port: ${port}`,
    `      deviceId: "${deviceId}"`,
    `      keepaliveSeconds: ${keepalive}`,
    extra,
  ].join('\n');
}

describe('GB/T 28181 signalling against sipp as the upper platform', () => {
  let gw: GatewayProcess;
  let dir: string;
  let keep: Sipp;
  let unreach: Sipp | undefined;
  let unreachPort: number;
  let badPort: number;
  type LinkOutage = { platform: string; kind: string; cause: string; startedAt: string; endedAt: string | null };
  const ledger = async (): Promise<LinkOutage[]> => (await gw.api<{ platforms: LinkOutage[] }>('GET', '/api/v1/outages')).body.platforms;
  let catalog: Sipp;
  let bad: Sipp;
  let tcp: Sipp;
  let keepPort: number;
  const cameraIds: string[] = [];

  beforeAll(async () => {
    expect(existsSync(SIPP), 'sipp is needed: apt-get install sip-tester').toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'psvgw-sipp-'));
    const [sipPort, keepAt, catalogPort, badAt, tcpPort, unreachAt] = (await freePorts(6)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    unreachPort = unreachAt;
    badPort = badAt;
    keepPort = keepAt;
    // The catalog platform waits for the query flow; the others start on the first REGISTER.
    keep = startSipp(dir, 'gb-register-keepalive', keepPort, 4);
    catalog = startSipp(dir, 'gb-catalog', catalogPort, 1000, false, { server_id: '34020000002000000001' });
    bad = startSipp(dir, 'gb-wrong-password', badPort, 1);
    tcp = startSipp(dir, 'gb-register-keepalive', tcpPort, 4, true);
    gw = await GatewayProcess.start({
      configYaml: [
        'gb28181:',
        '  sipHost: 127.0.0.1',
        `  sipPort: ${sipPort}`,
        '  platforms:',
        // The keepalive platforms share no camera: the cameras' outage alarms would take the scripted calls.
        platformYaml('keep', '34020000002000000011', keepPort, '34020000001180000001', 1, '      cameraIds: []'),
        platformYaml('badpass', '34020000002000000013', badPort, '34020000001180000003', 60),
        platformYaml('tcpkeep', '34020000002000000015', tcpPort, '34020000001180000001', 1, '      transport: tcp\n      cameraIds: []'),
        // Nothing listens there until its test starts a sipp: the REGISTER goes unanswered.
        platformYaml('unreach', '34020000002000000017', unreachPort, '34020000001180000001', 60, '      cameraIds: []'),
      ].join('\n'),
      env: {
        PSVGW_PLATFORM_KEEP_PASSWORD: 'sipp-secret',
        PSVGW_PLATFORM_BADPASS_PASSWORD: 'not-the-password',
        PSVGW_PLATFORM_TCPKEEP_PASSWORD: 'sipp-secret',
        PSVGW_PLATFORM_UNREACH_PASSWORD: 'sipp-secret',
      },
    });
    for (let i = 0; i < CAMERAS; i++) {
      const res = await gw.api<{ id: string }>('POST', '/api/v1/cameras?skipProbe=true', {
        name: `南门卡口 ${i + 1} 号`,
        rtspUrl: `rtsp://127.0.0.1:9/none${i}`,
        siteType: 'road',
        address: `深圳市南山区 ${i + 1}`,
      });
      expect(res.status).toBe(201);
      cameraIds.push(res.body.id);
    }
    // The catalog platform comes from the API (the others from the config file), added once the cameras exist.
    const added = await gw.api<{ id: string; state: string; pendingChange: unknown }>('POST', '/api/v1/platforms', {
      kind: 'gb28181',
      name: 'catalog',
      serverId: '34020000002000000001',
      serverDomain: '3402000000',
      host: '127.0.0.1',
      port: catalogPort,
      transport: 'udp',
      deviceId: '34020000001180000002',
      password: 'catalog-secret',
      cameraIds,
      keepaliveSeconds: 60,
      registerExpiresSeconds: 3600,
    });
    expect(added.body).toMatchObject({ id: 'catalog', state: 'pending' });
    // It sends footage outside: pending until a second admin approves (202 with the pending change).
    await approvedBySecondAdmin(gw, { status: added.status, body: added.body.pendingChange });
  }, 60_000);

  afterAll(async () => {
    for (const s of [keep, catalog, bad, tcp, unreach]) s?.proc.kill('SIGTERM');
    await stopAllGateways();
    if (dir !== undefined && process.env.KEEP_SIPP === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('registers through the 401 digest challenge and sends keepalives at the interval', async () => {
    // sipp exits 0 once the REGISTER (digest verified, X-GB-ver checked) and 3 keepalives are answered.
    const code = await Promise.race([keep.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000))]);
    expect(code).toBe(0);
    const keepalives = received(keep).filter((m) => m.text.startsWith('MESSAGE ') && m.text.includes('<CmdType>Keepalive</CmdType>'));
    expect(keepalives.length).toBeGreaterThanOrEqual(3);
    const gaps = keepalives.slice(1).map((m, i) => m.at - (keepalives[i]?.at ?? 0));
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(500);
      expect(gap).toBeLessThan(2000);
    }
    const state = await gw.api<{ registered: boolean; keepalivesAnswered: number; clockDriftMs: number | null }>(
      'GET',
      '/api/v1/platforms/keep',
    );
    expect(state.status).toBe(200);
    expect(state.body.keepalivesAnswered).toBeGreaterThanOrEqual(3);
    expect(state.body.clockDriftMs).not.toBeNull();
  });

  it('registers and keeps alive over TCP as well', async () => {
    expect(await Promise.race([tcp.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000))])).toBe(0);
    const seen = received(tcp);
    expect(seen.filter((m) => m.text.startsWith('REGISTER ') && m.text.includes('SIP/2.0/TCP'))).toHaveLength(2);
    expect(
      seen.filter((m) => m.text.startsWith('MESSAGE ') && m.text.includes('<CmdType>Keepalive</CmdType>')).length,
    ).toBeGreaterThanOrEqual(3);
  });

  it('detects a platform that stops answering keepalives, and registers again when it returns', async () => {
    // The sipp of the first test has exited: its port answers only with ICMP now.
    const down = await pollUntil(
      async () => (await gw.api<{ state: string }>('GET', '/api/v1/platforms/keep')).body.state === 'offline',
      15_000,
      200,
    );
    expect(down).not.toBeNull();
    const state = await gw.api<{ lastError: string; registered: boolean }>('GET', '/api/v1/platforms/keep');
    expect(state.body).toMatchObject({ registered: false, lastError: '3 keepalives unanswered' });
    expect(await gw.metric('psvgw_gb28181_link_up', { platform: 'keep' })).toBe(0);
    expect(JSON.stringify((await gw.api('GET', '/api/v1/incidents')).body)).toContain('platform_down:keep');
    // The platform returns: the REGISTER being retransmitted reaches it, and one keepalive is answered.
    // Late retransmissions of the old keepalives reach it too: it answers whatever comes until the link is back.
    keep = startSipp(dir, 'gb-register-keepalive', keepPort, 1000);
    const isBack = async () => {
      const b = (
        await gw.api<{ registered: boolean; keepaliveMisses: number; keepalivesAnswered: number }>('GET', '/api/v1/platforms/keep')
      ).body;
      return b.registered && b.keepaliveMisses === 0;
    };
    expect(await pollUntil(isBack, 20_000, 200)).not.toBeNull();
    expect(JSON.stringify((await gw.api('GET', '/api/v1/incidents')).body)).not.toContain('platform_down:keep');
    // The outage ledger: one row for the lost link, closed now.
    const rows = (await ledger()).filter((r) => r.platform === 'keep');
    expect(rows).toEqual([expect.objectContaining({ kind: 'platform_down:keep', cause: '3 keepalives unanswered' })]);
    expect(rows[0]!.endedAt).not.toBeNull();
  });

  it('answers a Catalog query with every camera, a stable SumNum and each MESSAGE under the UDP limit', async () => {
    const catalogMessages = () =>
      received(catalog).filter((m) => m.text.startsWith('MESSAGE ') && m.text.includes('<CmdType>Catalog</CmdType>'));
    const items = () => catalogMessages().flatMap((m) => [...m.text.matchAll(/<Item>\s*<DeviceID>(\d{20})<\/DeviceID>/g)].map((x) => x[1]));
    const waited = await pollUntil(() => items().length >= CAMERAS, 20_000, 200);
    expect(waited, `catalog items seen: ${items().length}`).not.toBeNull();
    const messages = catalogMessages();
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expect(m.bytes).toBeLessThanOrEqual(1400);
      expect(m.text).toMatch(/<SumNum>8<\/SumNum>/);
      expect(m.text).toMatch(/<SN>17430<\/SN>/);
    }
    expect(new Set(items())).toEqual(new Set(cameraIds));
    // CivilCode never empty: the ID's first 6 digits.
    expect(messages[0]?.text).toMatch(/<CivilCode>\d{6}<\/CivilCode>/);
    const state = await gw.api<{ catalogQueries: number; registered: boolean }>('GET', '/api/v1/platforms/catalog');
    expect(state.body).toMatchObject({ catalogQueries: 1, registered: true });
  });

  it('reports a wrong password (403) in the platform state, metrics and incidents, and retries with backoff', async () => {
    const code = await Promise.race([bad.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000))]);
    expect(code, 'sipp saw the REGISTER retried after the 403').toBe(0);
    const state = await gw.api<{ registered: boolean; state: string; lastError: string; lastStatus: number; registerFailures: number }>(
      'GET',
      '/api/v1/platforms/badpass',
    );
    expect(state.body.registered).toBe(false);
    expect(state.body.state).toBe('offline');
    expect(state.body.lastError).toMatch(/wrong password/);
    expect(state.body.registerFailures).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(state.body)).not.toContain('not-the-password');
    expect(await gw.metric('psvgw_gb28181_link_up', { platform: 'badpass' })).toBe(0);
    expect(await gw.metric('psvgw_gb28181_link_up', { platform: 'catalog' })).toBe(1);
    const incidents = await gw.api<{ items: { kind: string }[] } | { kind: string }[]>('GET', '/api/v1/incidents');
    expect(JSON.stringify(incidents.body)).toContain('platform_down:badpass');
    const audit = await gw.api<{ items: { outcome: string; details: { platform: string; to: string } }[] }>(
      'GET',
      '/api/v1/audit?action=platform.link',
    );
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({ outcome: 'error', details: expect.objectContaining({ platform: 'badpass', to: 'offline' }) }),
    );
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({ outcome: 'ok', details: expect.objectContaining({ platform: 'catalog', to: 'registered' }) }),
    );
    const open = (await ledger()).filter((r) => r.platform === 'badpass');
    expect(open).toEqual([expect.objectContaining({ kind: 'platform_down:badpass', endedAt: null })]);
    expect(open[0]!.cause).toMatch(/wrong password/);
    const list = await gw.api<{ items: { id: string }[] }>('GET', '/api/v1/platforms');
    expect(list.body.items.map((p) => p.id)).toEqual(['keep', 'badpass', 'tcpkeep', 'unreach', 'catalog']);
    expect(gw.logs.join('\n')).not.toMatch(/not-the-password|sipp-secret|catalog-secret/);
  });

  it('recovers from the wrong password once the platform accepts it: registered, link_up 1, the ledger row closed', async () => {
    // The refusing sipp has exited (previous test); the platform comes back knowing the gateway's password.
    bad = startSipp(dir, 'gb-password-accepted', badPort, 1000);
    const back = await pollUntil(async () => (await gw.metric('psvgw_gb28181_link_up', { platform: 'badpass' })) === 1, 60_000, 300);
    expect(back, 'link_up 1 once the password is accepted').not.toBeNull();
    const state = await gw.api<{ registered: boolean; registerFailures: number; lastError: string | null }>(
      'GET',
      '/api/v1/platforms/badpass',
    );
    expect(state.body).toMatchObject({ registered: true, registerFailures: 0, lastError: null });
    expect(JSON.stringify((await gw.api('GET', '/api/v1/incidents')).body)).not.toContain('platform_down:badpass');
    await pollUntil(async () => (await ledger()).some((r) => r.platform === 'badpass' && r.endedAt !== null), 10_000, 200);
    expect((await ledger()).filter((r) => r.platform === 'badpass')).toEqual([expect.objectContaining({ endedAt: expect.any(String) })]);
  }, 90_000);

  it('detects a platform with nothing listening (no answer to REGISTER), and registers once it listens; the ledger row closes', async () => {
    // Over UDP nothing comes back: the REGISTER transaction times out (64·T1 = 32 s).
    const down = await pollUntil(
      async () => (await gw.api<{ state: string }>('GET', '/api/v1/platforms/unreach')).body.state === 'offline',
      60_000,
      500,
    );
    expect(down, 'the unreachable platform shown offline').not.toBeNull();
    const state = await gw.api<{ lastError: string; registered: boolean }>('GET', '/api/v1/platforms/unreach');
    expect(state.body.registered).toBe(false);
    expect(state.body.lastError).toMatch(/no answer to REGISTER/);
    expect(await gw.metric('psvgw_gb28181_link_up', { platform: 'unreach' })).toBe(0);
    expect(await gw.metric('psvgw_gb28181_register_failures', { platform: 'unreach' })).toBeGreaterThanOrEqual(1);
    const rows = (await ledger()).filter((r) => r.platform === 'unreach');
    expect(rows).toEqual([expect.objectContaining({ kind: 'platform_down:unreach', endedAt: null })]);
    expect(rows[0]!.cause).toMatch(/no answer to REGISTER/);

    // The platform starts listening: the REGISTER being retried reaches it.
    unreach = startSipp(dir, 'gb-register-keepalive', unreachPort, 1000);
    const back = await pollUntil(async () => (await gw.metric('psvgw_gb28181_link_up', { platform: 'unreach' })) === 1, 45_000, 300);
    expect(back, 'link_up 1 once the platform listens').not.toBeNull();
    await pollUntil(async () => (await ledger()).some((r) => r.platform === 'unreach' && r.endedAt !== null), 10_000, 200);
    expect((await ledger()).filter((r) => r.platform === 'unreach')).toEqual([expect.objectContaining({ endedAt: expect.any(String) })]);
    // Camera outage listings and the outage report take no harm from link rows.
    const byCamera = await gw.api<{ items: { cameraId: string }[]; platforms: unknown[] }>(
      'GET',
      `/api/v1/outages?cameraId=${cameraIds[0]}`,
    );
    expect(byCamera.body.platforms).toEqual([]);
    expect(byCamera.body.items.every((o) => o.cameraId === cameraIds[0])).toBe(true);
    const report = await gw.api<{ outages?: unknown }>('GET', '/api/v1/reports/outages?format=json');
    expect(report.status).toBe(200);
  }, 120_000);

  it('removes an API platform: unregistered with Expires 0, gone from the list, audited', async () => {
    const unregistered = () => received(catalog).some((m) => m.text.startsWith('REGISTER ') && /^Expires:\s*0\s*$/m.test(m.text));
    expect(unregistered()).toBe(false);
    const del = await gw.api('DELETE', '/api/v1/platforms/catalog');
    expect(del.status).toBe(204);
    expect(await pollUntil(unregistered, 10_000, 200), 'sipp saw a REGISTER with Expires: 0').not.toBeNull();
    expect((await gw.api('GET', '/api/v1/platforms/catalog')).status).toBe(404);
    const list = await gw.api<{ items: { id: string }[] }>('GET', '/api/v1/platforms');
    expect(list.body.items.map((p) => p.id)).toEqual(['keep', 'badpass', 'tcpkeep', 'unreach']);
    // A config-file platform is not the API's to remove.
    expect((await gw.api('DELETE', '/api/v1/platforms/keep')).status).toBe(409);
    const audit = await gw.api<{ items: { actor: string; details: { platform: string } }[] }>(
      'GET',
      '/api/v1/audit?action=platform.remove',
    );
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({ actor: 'admin', details: expect.objectContaining({ platform: 'catalog' }) }),
    );
    expect(await gw.metric('psvgw_gb28181_link_up', { platform: 'catalog' })).toBeUndefined();
  });

  it('manages platforms from the CLI: add (password on stdin) waits for approval, list, show, remove', () => {
    const cli = (args: string[], input?: string) =>
      spawnSync(process.execPath, [CLI_PATH, 'platforms', ...args], {
        env: { ...process.env, PSVGW_API_URL: gw.apiUrl, PSVGW_ADMIN_TOKEN: ADMIN_TOKEN },
        encoding: 'utf8',
        timeout: 30_000,
        ...(input === undefined ? {} : { input }),
      });
    expect(cli(['--help']).stdout).toMatch(/psvgw platforms add --name city --server-id/);
    const bad = cli(['add', '--name', 'cli', '--server-id', '3402', '--host', '127.0.0.1', '--device-id', '34020000001180000004'], 'pw\n');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/serverId must be the platform's 20-digit SIP server ID/);
    const add = cli(
      [
        'add',
        '--name',
        'cli',
        '--server-id',
        '34020000002000000031',
        '--host',
        '127.0.0.1',
        '--port',
        '9',
        '--device-id',
        '34020000001180000004',
      ],
      'cli-secret\n',
    );
    expect(add.stderr).toBe('');
    expect(add.stdout).toMatch(/platform cli is pending: another admin approves it with\n {2}psvgw changes approve [0-9a-f-]{36}/);
    const list = cli(['list']);
    expect(list.stdout).toMatch(/^cli\s+pending\s+34020000002000000031@127\.0\.0\.1:9\/udp/m);
    const shown = cli(['show', 'cli']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: 'cli', state: 'pending', serverDomain: '3402000000' });
    expect(shown.stdout).not.toContain('cli-secret');
    expect(cli(['remove', 'cli']).stdout).toBe('platform cli removed\n');
    expect(cli(['show', 'cli']).stderr).toMatch(/no platform cli/);
  });
});
