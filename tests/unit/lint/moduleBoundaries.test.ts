import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the lint setup, without type declarations.
import { boundaryViolation, moduleBoundariesPlugin } from '../../../.ci/moduleBoundaries.mjs';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const RULE = 'psvgw/module-boundaries';

/** Lints a fixture as though it were the given repository file, with the boundary rule alone. */
async function lintAs(fixture: string, asFile: string): Promise<ESLint.LintResult> {
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser as never },
        plugins: { psvgw: moduleBoundariesPlugin as never },
        rules: { [RULE]: 'error' },
      },
    ],
  });
  const text = readFileSync(join(ROOT, 'tests', 'fixtures', 'boundaries', fixture), 'utf8');
  const [result] = await eslint.lintText(text, { filePath: join(ROOT, asFile) });
  if (result === undefined) throw new Error('ESLint returned no result');
  return result;
}

describe('module boundary lint rule', () => {
  it('rejects a deep import into another module', async () => {
    const result = await lintAs('deep-import.ts.txt', 'src/cameras/example.ts');
    expect(result.messages).toEqual([
      expect.objectContaining({
        ruleId: RULE,
        severity: 2,
        line: 2,
        message: 'src/store/sqlite.ts is inside module store: import it through src/store/index.ts',
      }),
    ]);
  });

  it('accepts index imports, the kernel, the domain and files of the same module', async () => {
    const result = await lintAs('index-import.ts.txt', 'src/cameras/example.ts');
    expect(result.messages).toEqual([]);
  });

  it('keeps the domain module free of other modules', async () => {
    const result = await lintAs('domain-import.ts.txt', 'src/domain/example.ts');
    expect(result.messages.map((m) => [m.ruleId, m.line])).toEqual([[RULE, 2]]);
    expect(result.messages[0]?.message).toMatch(/src\/domain imports nothing but the shared kernel/);
  });

  it('holds bench/ to the same boundaries', async () => {
    const result = await lintAs('bench-deep-import.ts.txt', 'bench/example.ts');
    expect(result.messages.map((m) => [m.ruleId, m.line, m.message])).toEqual([
      [RULE, 2, 'src/media/flv.ts is inside module media: import it through src/media/index.ts'],
    ]);
  });

  it('leaves tests free to reach internals', async () => {
    const result = await lintAs('deep-import.ts.txt', 'tests/unit/example.ts');
    expect(result.messages).toEqual([]);
  });

  it('is switched on for src/ and bench/ by the project lint config', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const file of ['src/cameras/registry.ts', 'bench/run.ts']) {
      const config = (await eslint.calculateConfigForFile(join(ROOT, file))) as { rules: Record<string, unknown> };
      expect(config.rules[RULE], file).toEqual([2]);
    }
  });

  it('forbids the kernel from importing modules and src/ from importing bench/', () => {
    expect(boundaryViolation('src/log.ts', 'src/config/index.ts')).toMatch(/shared kernel .* imports no module/);
    expect(boundaryViolation('src/pipeline/supervisor.ts', 'bench/run.ts')).toBe('src/ must not import bench/');
    expect(boundaryViolation('src/cli/startCommand.ts', 'src/app.ts')).toBeNull();
  });
});
