import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';

const CHECKPOINT_SECONDS = 5;

/** The running gateway chains what it audits and signs the head; the CLI verifies it offline. */
describe('audit chain of a running gateway', () => {
  let gw: GatewayProcess;
  const verify = (...args: string[]) =>
    runCli(['audit', 'verify', '--config', join(gw.dataDir, 'gateway.yaml'), ...args], {
      env: { PSVGW_DATA_DIR: join(gw.dataDir, 'data') },
    });

  beforeAll(async () => {
    gw = await GatewayProcess.start({ configYaml: `recording:\n  checkpointSeconds: ${CHECKPOINT_SECONDS}` });
  });
  afterAll(async () => {
    await stopAllGateways();
    gw?.cleanup();
  });

  it('signs the head of what it audits; an edited row then fails verification', async () => {
    const users = [1, 2, 3].map((n) => ({ username: `audit.user${n}`, password: 'a long enough passphrase', roles: ['auditor'] }));
    for (const u of users) expect((await gw.api('POST', '/api/v1/users', u)).status).toBe(201);
    const refused = await gw.api('POST', '/api/v1/auth/login', { username: 'audit.user1', password: 'wrong password here' }, null);
    expect(refused.status).toBe(401);
    let last = '';
    await gw
      .waitFor(
        'the audit head signed and the chain verified',
        async () => {
          const r = await verify('--json');
          last = r.stdout + r.stderr;
          if (r.status !== 0) return false;
          const report = JSON.parse(r.stdout) as { entries: number; signedSeq: number; head: { seq: number } | null };
          return report.entries >= 4 && report.head !== null && report.signedSeq === report.head.seq;
        },
        60_000,
        500,
      )
      .catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; last verify output: ${last}`);
      });
    expect(await gw.stopProcess()).toBe(0);
    expect((await verify()).status).toBe(0);
    const db = new Database(join(gw.dataDir, 'data', 'psvgw.db'));
    let id: number;
    try {
      id = (db.prepare("SELECT id FROM audit_log WHERE outcome = 'refused' ORDER BY id LIMIT 1").get() as { id: number }).id;
      db.prepare("UPDATE audit_log SET outcome = 'ok' WHERE id = ?").run(id);
    } finally {
      db.close();
    }
    const tampered = await verify();
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toMatch(new RegExp(`first: changed entry seq \\d+ \\(id ${id}\\) was changed after it was written`));
  });
});
