import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../../src/domain/index.js';
import { GatewayError } from '../../../src/errors.js';
import { registerNodeKey, sha256File, type HoldingNode, type VerifyOptions } from '../../../src/recording/index.js';
import { recordingFixture } from './fixture.js';

/**
 * Cluster mode: segments another node holds are checked through that node (`held.hash`, here
 * reading that node's directory); a node that is not alive or does not answer makes them
 * `unreachable` findings naming it, never `missing`.
 */
describe('verifyRecordings with segments held by another node', () => {
  let f: Awaited<ReturnType<typeof recordingFixture>>;
  let otherDir: string;
  let entries: ChainEntry[];
  const alive = (yes: boolean): HoldingNode[] => [{ name: 'gw-2', alive: yes, apiUrl: 'http://gw-2.invalid:8080' }];
  const held = (nodes: HoldingNode[], hash?: NonNullable<VerifyOptions['held']>['hash']): Partial<VerifyOptions> => ({
    held: {
      self: 'gw-1',
      nodes,
      hash: hash ?? (async (e) => ({ sha256: await sha256File(join(otherDir, e.path)), bytes: e.bytes })),
    },
  });

  beforeEach(async () => {
    f = await recordingFixture();
    otherDir = join(f.root, 'gw-2-recordings');
    // The segments are gw-2's: written under its name with its registered key.
    await registerNodeKey(f.store, 'gw-2', f.signer, { singleNode: false, at: '2026-12-01T00:00:00.000Z' });
    f.ledger.writeAs('gw-2');
    entries = [await f.segment(2), await f.segment(1)];
    // The files are on gw-2's disk, not this node's.
    for (const e of entries) {
      mkdirSync(dirname(join(otherDir, e.path)), { recursive: true });
      renameSync(join(f.dir, e.path), join(otherDir, e.path));
    }
  });
  afterEach(() => f.cleanup());

  it('indexes the segments as held by gw-2', () => {
    expect(entries.map((e) => e.node)).toEqual(['gw-2', 'gw-2']);
  });

  it('checks them through a live gw-2: all verified', async () => {
    const report = await f.verify(held(alive(true)));
    expect(report.findings).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('a changed copy on gw-2 is modified', async () => {
    writeFileSync(join(otherDir, entries[0]!.path), 'changed');
    const report = await f.verify(held(alive(true)));
    expect(report.findings.map((x) => [x.kind, x.seq])).toEqual([['modified', entries[0]!.seq]]);
  });

  it('gw-2 not alive, or not answering: unreachable naming it, not missing', async () => {
    const dead = await f.verify(held(alive(false)));
    expect(dead.ok).toBe(false);
    expect(dead.findings.map((x) => x.kind)).toEqual(['unreachable', 'unreachable']);
    expect(dead.findings[0]!.message).toMatch(/held by node gw-2, which is not alive .*unreachable, not missing/);

    const silent = await f.verify(held(alive(true), () => Promise.reject(new GatewayError('RECORDING_UNREACHABLE', 'connection refused'))));
    expect(silent.findings.map((x) => x.kind)).toEqual(['unreachable', 'unreachable']);
    expect(silent.findings[0]!.message).toContain('which did not answer');
  });

  it('a file found on this disk is checked here, whichever node indexed it (shared storage)', async () => {
    for (const e of entries) renameSync(join(otherDir, e.path), join(f.dir, e.path));
    const report = await f.verify(held(alive(false), () => Promise.reject(new Error('not asked'))));
    expect(report.findings).toEqual([]);
  });

  it('without the cluster view the files are missing from this disk (a single gateway)', async () => {
    const report = await f.verify();
    expect(report.findings.map((x) => x.kind)).toEqual(['missing', 'missing']);
  });
});
