import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverGeneratedToken } from '../../../src/access/index.js';
import { createLogger } from '../../../src/log.js';

const TOKEN = 'generated-token-Vd83kQ0sZpW1xYt7';
const dirs: string[] = [];

function setUp(isTTY: boolean) {
  const dataDir = mkdtempSync(join(tmpdir(), 'psvgw-token-'));
  dirs.push(dataDir);
  const terminal = Object.assign(new PassThrough(), { isTTY });
  const log = new PassThrough();
  let logged = '';
  log.on('data', (c: Buffer) => (logged += c.toString()));
  const logger = createLogger({ level: 'debug', destination: log });
  return { dataDir, terminal, logger, terminalText: () => String(terminal.read() ?? ''), logged: () => logged };
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a token generated in development mode', () => {
  it('is printed once on a terminal, and neither logged nor written to a file', () => {
    const s = setUp(true);
    deliverGeneratedToken({ token: TOKEN, dataDir: s.dataDir, terminal: s.terminal, logger: s.logger });
    expect(s.terminalText()).toContain(TOKEN);
    expect(s.logged()).not.toContain(TOKEN);
    expect(existsSync(join(s.dataDir, 'keys', 'admin.token'))).toBe(false);
  });

  it('goes to a 0600 file when the output is not a terminal; the log names the file, not the token', () => {
    const s = setUp(false);
    deliverGeneratedToken({ token: TOKEN, dataDir: s.dataDir, terminal: s.terminal, logger: s.logger });
    const file = join(s.dataDir, 'keys', 'admin.token');
    expect(readFileSync(file, 'utf8').trim()).toBe(TOKEN);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.dataDir, 'keys')).mode & 0o777).toBe(0o700);
    expect(s.terminalText()).toBe('');
    expect(s.logged()).toContain(file);
    expect(s.logged()).not.toContain(TOKEN);
  });
});
