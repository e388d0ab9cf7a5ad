import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/clusterDb.js';
import { startClusterNode, until } from '../../helpers/clusterNodes.js';
import { type GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';
import { freePorts } from '../../helpers/ports.js';
import { cityLinkYaml, SipPlatform } from '../../helpers/sipPlatform.js';

/**
 * The writes a GB/T 28181 platform link makes are fenced by its link lease epoch: a node
 * whose link lease is taken while one of them is in flight has it refused (nothing written)
 * and stops the link at once; under the lease it claims next, its writes go in.
 *
 * Made deterministic with a row lock: the test holds `platform_link_leases`' row FOR UPDATE
 * (the node's renewals and fence wait on it), the platform goes silent so the link goes
 * offline and its outage row's write waits in the fence, then the test hands the lease to
 * another owner at a new epoch and commits. The lease is 30 s so the node's self-stop
 * (lease − margin without a renewal) cannot come first.
 */
const DEVICE_ID = '34020000001180000003';

describe('cluster mode: the writes of a platform link are fenced by its lease', { timeout: 60_000 }, () => {
  let db: TestDatabase;
  let sql: pg.Client;
  let shared: string;
  let platform: SipPlatform;
  let gw: GatewayProcess;

  const lease = async () =>
    (await sql.query<{ owner: string | null; epoch: string }>("SELECT owner, epoch FROM platform_link_leases WHERE link = 'city'")).rows[0];
  const outageRows = async () =>
    (await sql.query<{ platform: string; ended_at: unknown }>('SELECT platform, ended_at FROM platform_outages ORDER BY id')).rows;
  const linkState = async () => (await gw.api<{ state: string }>('GET', '/api/v1/platforms/city')).body.state;

  beforeAll(async () => {
    db = await createTestDatabase();
    shared = mkdtempSync(join(tmpdir(), 'psvgw-link-fence-'));
    platform = await SipPlatform.start();
    const [sipPort] = await freePorts(1);
    const configYaml = [
      'cluster:',
      '  leaseSeconds: 30',
      ...cityLinkYaml({ sipPort: sipPort as number, platform, deviceId: DEVICE_ID, password: 'link-fence-secret', keepaliveSeconds: 1 }),
    ].join('\n');
    gw = await startClusterNode({ name: 'f1', dbUrl: db.url, sharedDir: shared, configYaml });
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await stopAllGateways();
    platform?.close();
    await sql?.end().catch(() => undefined);
    await db?.drop();
    if (shared !== undefined) rmSync(shared, { recursive: true, force: true });
  });

  it('a link write refused by the fence writes nothing and stops the link; under its next claim the writes go in', async () => {
    await until('the link registered', async () => ((await linkState()) === 'registered' ? true : undefined), 20_000);
    const claimed = await lease();
    expect(claimed?.owner).toBe('f1');

    // Hold the lease row: the node's renewals and any fenced write of the link wait on it.
    const lock = new pg.Client({ connectionString: db.url });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query("SELECT 1 FROM platform_link_leases WHERE link = 'city' FOR UPDATE");
      platform.silent = true; // keepalives unanswered: the link goes offline, its outage row is to be written
      await until(
        "the link's outage write waiting in the fence",
        async () => {
          const { rows } = await sql.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%platform_link_leases%FOR SHARE%'",
          );
          return Number(rows[0]?.n) > 0 ? true : undefined;
        },
        15_000,
      );
      // Another node claims the link behind this one's back (a new epoch), before its next renewal.
      await lock.query(
        "UPDATE platform_link_leases SET owner = 'f2', epoch = epoch + 1, acquired_at = now(), expires_at = now() + INTERVAL '1 hour' WHERE link = 'city'",
      );
      await lock.query('COMMIT');
    } finally {
      await lock.end();
    }
    await gw.waitForLog(/a platform link write was refused by the lease fence: stopping the link here/, 10_000);
    await until('the link stopped here', async () => ((await linkState()) === 'standby' ? true : undefined), 10_000);
    expect(await outageRows()).toEqual([]);
    expect(await lease()).toEqual({ owner: 'f2', epoch: String(Number(claimed?.epoch) + 1) });

    // The lease comes free again: the node claims it at a new epoch, registers, and its outage row goes in.
    platform.silent = false;
    await sql.query("UPDATE platform_link_leases SET owner = NULL, expires_at = now() WHERE link = 'city'");
    await until('the link registered again', async () => ((await linkState()) === 'registered' ? true : undefined), 20_000);
    expect(await lease()).toEqual({ owner: 'f1', epoch: String(Number(claimed?.epoch) + 2) });
    platform.silent = true;
    await until('the outage row of the link written', async () => ((await outageRows()).length > 0 ? true : undefined), 15_000);
    expect(await outageRows()).toEqual([{ platform: 'city', ended_at: null }]);
  });
});
