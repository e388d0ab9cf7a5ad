import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  ClockWatch,
  NtpWatch,
  clockDriftSeconds,
  driftExceeds,
  parseChronycTracking,
  parseTimedatectl,
  readNtpState,
  type CommandRunner,
} from '../../../../src/health/diagnostics/clock.js';
import { IncidentBoard } from '../../../../src/health/incidents.js';

const quiet = pino({ level: 'silent' });
const gateway = new Date('2026-03-01T08:00:00.000Z');

describe('clock drift', () => {
  it('is camera minus gateway, in seconds, beyond the limit in either direction', () => {
    expect(clockDriftSeconds(new Date('2026-03-01T08:00:07.500Z'), gateway)).toBe(7.5);
    expect(clockDriftSeconds(new Date('2026-03-01T07:59:58.000Z'), gateway)).toBe(-2);
    expect(driftExceeds(5, 5)).toBe(false);
    expect(driftExceeds(-5.1, 5)).toBe(true);
  });

  it('ClockWatch fires clock_drift once beyond the limit and resolves it within the limit', () => {
    const incidents = new IncidentBoard(quiet);
    const changes: string[] = [];
    incidents.onChange((c) => changes.push(`${c.state}:${c.incident.cameraId}/${c.incident.kind}`));
    const watch = new ClockWatch(incidents, 5);
    watch.report('c1', new Date('2026-03-01T07:59:50.000Z'), gateway);
    watch.report('c1', new Date('2026-03-01T07:59:49.000Z'), gateway);
    expect(incidents.active({ cameraId: 'c1' })[0]?.message).toMatch(/10\.0 s behind the gateway \(limit 5 s\)/);
    expect(watch.readings().get('c1')?.driftSeconds).toBe(-11);
    watch.report('c1', new Date('2026-03-01T08:00:01.000Z'), gateway);
    watch.report('c2', new Date('2026-03-01T08:00:04.000Z'), gateway);
    expect(changes).toEqual(['firing:c1/clock_drift', 'resolved:c1/clock_drift']);
    watch.forget('c2');
    expect(watch.readings().has('c2')).toBe(false);
  });
});

describe('NTP sync state', () => {
  it('parses timedatectl and chronyc', () => {
    expect(parseTimedatectl('yes\n')).toBe('synchronized');
    expect(parseTimedatectl('no\n')).toBe('unsynchronized');
    expect(parseTimedatectl('')).toBe('unknown');
    expect(parseChronycTracking('Reference ID    : C0A80001 (gw)\nLeap status     : Normal\n')).toBe('synchronized');
    expect(parseChronycTracking('Reference ID    : 00000000 ()\nLeap status     : Not synchronised\n')).toBe('unsynchronized');
    expect(parseChronycTracking('506 Cannot talk to daemon')).toBe('unknown');
  });

  const runner =
    (answers: Record<string, string | Error>): CommandRunner =>
    (file) => {
      const a = answers[file] ?? Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    };

  it('asks timedatectl, then chronyc, and says unknown when neither answers', async () => {
    expect(await readNtpState(runner({ timedatectl: 'yes\n' }))).toEqual({ state: 'synchronized', source: 'timedatectl' });
    expect(
      await readNtpState(runner({ timedatectl: new Error('System has not been booted with systemd'), chronyc: 'Leap status : Normal' })),
    ).toEqual({
      state: 'synchronized',
      source: 'chronyc',
    });
    expect(await readNtpState(runner({}))).toEqual({ state: 'unknown', source: 'none' });
  });

  it('NtpWatch raises ntp_unsynchronized for the gateway while unsynchronised, not while unknown', async () => {
    const incidents = new IncidentBoard(quiet);
    let answer: Record<string, string> = { timedatectl: 'no' };
    const watch = new NtpWatch(incidents, 60_000, quiet, (file) =>
      file in answer ? Promise.resolve(answer[file] as string) : Promise.reject(new Error('ENOENT')),
    );
    expect(await watch.check()).toBe('unsynchronized');
    expect(incidents.isFiring(null, 'ntp_unsynchronized')).toBe(true);
    answer = {};
    expect(await watch.check()).toBe('unknown');
    expect(incidents.isFiring(null, 'ntp_unsynchronized')).toBe(false);
    await watch.close();
  });
});
