import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChainSigner, signingKeyPath } from '../../../src/recording/index.js';
import { runCli } from '../../helpers/cli.js';
import { GatewayProcess, stopAllGateways } from '../../helpers/gateway.js';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * A gateway whose key file was replaced (lost, or swapped by someone) refuses to start
 * while its node name is registered with the old key; an admin retires the old key with
 * `psvgw keys retire`, and the gateway starts with the new one and registers it.
 */
describe('psvgw keys retire: a node starting with a new key', () => {
  let dataDir: string | undefined;

  afterAll(async () => {
    await stopAllGateways();
  });

  it('refuses the swapped key, naming both keys and the command; starts once the old key is retired', async () => {
    const first = await GatewayProcess.start();
    dataDir = first.dataDir;
    const old = /recording signing key (SHA256:[A-Za-z0-9+/]{43})/.exec(first.logs.join('\n'))?.[1] ?? '';
    expect(old).not.toBe('');
    expect(await first.stop()).toBe(0);

    const replaced = ChainSigner.generate();
    replaced.save(signingKeyPath(join(dataDir, 'data')));
    await expect(GatewayProcess.start({ dataDir })).rejects.toThrow(
      new RegExp(
        `is registered with the signing key ${esc(old)}, but its key is ${esc(replaced.fingerprint)}[\\s\\S]*psvgw keys retire ${esc(old)}`,
      ),
    );

    const env = { PSVGW_DATA_DIR: join(dataDir, 'data') };
    const retired = await runCli(['keys', 'retire', old], { env });
    expect(retired.stdout).toContain(`signing key retired: ${old}`);
    expect(retired.status).toBe(0);
    // A second retire of the same key is refused: nothing is in service under it.
    expect((await runCli(['keys', 'retire', old], { env })).status).not.toBe(0);

    const again = await GatewayProcess.start({ dataDir });
    expect(again.logs.join('\n')).toContain(`recording signing key ${replaced.fingerprint}`);
    expect(await again.stop()).toBe(0);
    const listed = await runCli(['keys', 'list', '--json'], { env });
    const items = (JSON.parse(listed.stdout) as { items: Array<{ fingerprint: string; retiredAt: string | null }> }).items;
    expect(items.map((k) => [k.fingerprint, k.retiredAt === null])).toEqual(
      expect.arrayContaining([
        [old, false],
        [replaced.fingerprint, true],
      ]),
    );
    expect(items).toHaveLength(2);
    again.cleanup();
  });
});
