import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SCRIPT = join(ROOT, '.ci', 'module-graph.mjs');

function graph(...args: string[]) {
  const run = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

// Each case spawns the script over the whole tree: on a busy 2-core machine that takes more than the default 5 s.
describe('module graph check', { timeout: 30_000 }, () => {
  it('reports a cycle between modules, type-only imports included, and fails', () => {
    const run = graph('--root', join(ROOT, 'tests', 'fixtures', 'module-cycle'));
    expect(run.stdout).toContain('alpha      → beta');
    expect(run.stderr).toContain('module cycle: alpha ⇄ beta');
    expect(run.stderr).toContain('file cycle: src/alpha/index.ts ⇄ src/beta/index.ts');
    expect(run.status).toBe(1);
  });

  it('finds no cycle in the gateway and the graph in docs/architecture.md is current', () => {
    const run = graph('--check-doc');
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('no import cycle between files or modules');
    expect(run.stdout).toMatch(/^domain +→ kernel$/m);
    expect(run.status).toBe(0);
  });
});
