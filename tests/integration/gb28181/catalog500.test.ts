/**
 * Issue 13, Must show 1 (500 cameras): a Catalog query over UDP and over TCP, against sipp
 * as the upper platform, gets all 500 shared cameras with SumNum 500 across several
 * MESSAGEs, each under the UDP size limit over UDP. The cameras are added disabled (no pull
 * runs for them; the catalog lists them with Status OFF); both platforms come from the API.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../bench/stats.js';
import { approvedBySecondAdmin } from '../../helpers/changeSteps.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { freePorts } from '../../helpers/ports.js';
import { received, SIPP, startSipp, type Sipp } from '../../helpers/sipp.js';

const CAMERAS = 500;
const PARALLEL = 8;

describe('a 500-camera catalog over UDP and TCP (issue 13, Must show 1)', () => {
  let gw: GatewayProcess;
  let dir: string;
  const platforms: Record<'udp' | 'tcp', Sipp | undefined> = { udp: undefined, tcp: undefined };
  const cameraIds: string[] = [];

  beforeAll(async () => {
    expect(existsSync(SIPP), 'sipp is needed: apt-get install sip-tester').toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'psvgw-sipp500-'));
    const [sipPort, udpPort, tcpPort] = (await freePorts(3)) as [number, number, number];
    gw = await GatewayProcess.start({ configYaml: ['gb28181:', '  sipHost: 127.0.0.1', `  sipPort: ${sipPort}`].join('\n') });
    // Disabled cameras: registered with their GB/T 28181 IDs, no pull started for any of them.
    for (let i = 0; i < CAMERAS; i += PARALLEL) {
      const batch = Array.from({ length: Math.min(PARALLEL, CAMERAS - i) }, (_, k) =>
        gw.api<{ id: string }>('POST', '/api/v1/cameras?skipProbe=true', {
          name: `卡口 ${i + k + 1} 号`,
          rtspUrl: `rtsp://127.0.0.1:9/none${i + k}`,
          siteType: 'road',
          enabled: false,
        }),
      );
      for (const res of await Promise.all(batch)) {
        expect(res.status).toBe(201);
        cameraIds.push(res.body.id);
      }
    }
    const add = async (transport: 'udp' | 'tcp', port: number, serverId: string) => {
      platforms[transport] = startSipp(dir, 'gb-catalog', port, 5000, transport === 'tcp', { server_id: serverId });
      const res = await gw.api<{ pendingChange: unknown }>('POST', '/api/v1/platforms', {
        kind: 'gb28181',
        name: `city-${transport}`,
        serverId,
        serverDomain: '3402000000',
        host: '127.0.0.1',
        port,
        transport,
        deviceId: '34020000001180000009',
        password: 'catalog-secret',
        cameraIds: 'all',
        keepaliveSeconds: 60,
        registerExpiresSeconds: 3600,
      });
      await approvedBySecondAdmin(gw, { status: res.status, body: res.body.pendingChange });
    };
    await add('udp', udpPort, '34020000002000000021');
    await add('tcp', tcpPort, '34020000002000000022');
  }, 120_000);

  afterAll(async () => {
    for (const s of Object.values(platforms)) s?.proc.kill('SIGTERM');
    await stopAllGateways();
    if (dir !== undefined && process.env.KEEP_SIPP === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it.each(['udp', 'tcp'] as const)('answers the Catalog query over %s with all 500 cameras and SumNum 500', async (transport) => {
    const sipp = platforms[transport]!;
    const messages = () => received(sipp).filter((m) => m.text.startsWith('MESSAGE ') && m.text.includes('<CmdType>Catalog</CmdType>'));
    const items = () => messages().flatMap((m) => [...m.text.matchAll(/<Item>\s*<DeviceID>(\d{20})<\/DeviceID>/g)].map((x) => x[1]));
    const waited = await pollUntil(() => items().length >= CAMERAS, 60_000, 250);
    expect(waited, `catalog items seen over ${transport}: ${items().length}`).not.toBeNull();
    const seen = messages();
    expect(seen.length).toBeGreaterThan(1);
    for (const m of seen) {
      expect(m.text).toMatch(/<SumNum>500<\/SumNum>/);
      expect(m.text).toMatch(/<SN>17430<\/SN>/);
      if (transport === 'udp') expect(m.bytes).toBeLessThanOrEqual(1400);
    }
    expect(items()).toHaveLength(CAMERAS);
    expect(new Set(items())).toEqual(new Set(cameraIds));
    // Disabled cameras are listed, and shown off.
    expect(seen[0]?.text).toMatch(/<Status>OFF<\/Status>/);
    const state = await gw.api<{ catalogQueries: number; registered: boolean; transport: string }>(
      'GET',
      `/api/v1/platforms/city-${transport}`,
    );
    expect(state.body).toMatchObject({ catalogQueries: 1, registered: true, transport });
  });
});
