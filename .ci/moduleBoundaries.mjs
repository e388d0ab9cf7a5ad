// @ts-check
/**
 * The module boundaries of src/, as an ESLint rule and as plain functions that the
 * module-graph check (.ci/module-graph.mjs) shares.
 *
 * A module is a directory under src/ (src/cameras, src/health, …). Its index.ts is its
 * public face: code outside the module imports that file and nothing else of it. The
 * shared kernel (the files directly in src/: errors.ts, log.ts, events.ts, version.ts,
 * and the ambient declarations in src/types/) may be imported from anywhere and imports
 * no module. src/domain holds the types several modules share, so it imports nothing
 * but the kernel. bench/ is held to the same rule as a module of its own; tests may reach
 * into internals for white-box unit tests.
 */
import { dirname, relative, resolve, sep } from 'node:path';

const KERNEL_EXCLUDED = new Set(['app.ts']);
const AMBIENT_DIR = 'types';
const DOMAIN = 'domain';

/**
 * Where a repository file sits: `{ area: 'src', module: 'cameras', rest: 'registry.ts' }`,
 * `{ area: 'src', module: null, rest: 'log.ts' }` for the kernel, `{ area: 'bench' }`, or
 * null outside src/ and bench/.
 * @param {string} repoRelative path relative to the repository root, `/`-separated
 * @returns {{ area: 'src' | 'bench', module: string | null, rest: string } | null}
 */
export function placeOf(repoRelative) {
  const parts = repoRelative.split('/');
  if (parts[0] === 'bench') return { area: 'bench', module: null, rest: parts.slice(1).join('/') };
  if (parts[0] !== 'src') return null;
  if (parts.length === 2) return { area: 'src', module: null, rest: parts[1] ?? '' };
  return { area: 'src', module: parts[1] ?? null, rest: parts.slice(2).join('/') };
}

/** True for src/<file>.ts (not app.ts) and src/types/**: what every module may import. */
function isKernel(place) {
  if (place.area !== 'src') return false;
  if (place.module === null) return !KERNEL_EXCLUDED.has(place.rest);
  return place.module === AMBIENT_DIR;
}

/**
 * Why an import from one repository file to another breaks a boundary, or null when it
 * is allowed. Both paths are relative to the repository root, with a `.ts` extension.
 * @param {string} from
 * @param {string} to
 * @returns {string | null}
 */
export function boundaryViolation(from, to) {
  const source = placeOf(from);
  const target = placeOf(to);
  if (source === null || target === null) return null;
  if (target.area === 'bench') return source.area === 'bench' ? null : 'src/ must not import bench/';
  if (source.area === 'src' && source.module === target.module && !isKernel(source)) return null;
  if (isKernel(target)) return null;
  if (source.area === 'src' && isKernel(source))
    return `the shared kernel (${from}) imports no module; move what it needs into the kernel or src/domain`;
  if (source.area === 'src' && source.module === DOMAIN)
    return `src/domain imports nothing but the shared kernel (src/*.ts); ${to} belongs to module ${target.module}`;
  // The composition root (src/app.ts): the CLI starts it.
  if (target.module === null) return null;
  if (target.rest === 'index.ts' || target.rest.endsWith('/index.ts')) return null;
  return `${to} is inside module ${target.module}: import it through src/${target.module}/index.ts`;
}

/**
 * The repository file a relative import names: `../store/sqlite.js` from
 * src/cameras/registry.ts is src/store/sqlite.ts. Null for package imports.
 * @param {string} fromRepoRelative
 * @param {string} specifier
 */
export function resolveSpecifier(fromRepoRelative, specifier) {
  if (!specifier.startsWith('.')) return null;
  const joined = resolve('/', dirname(fromRepoRelative), specifier).slice(1).split(sep).join('/');
  return joined.replace(/\.js$/, '.ts');
}

/** @type {import('eslint').Rule.RuleModule} */
const moduleBoundariesRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Cross-module imports go through the module index.ts (see .ci/moduleBoundaries.mjs).' },
    schema: [],
    messages: { boundary: '{{why}}' },
  },
  create(context) {
    const from = relative(context.cwd, context.filename).split(sep).join('/');
    if (placeOf(from) === null) return {};
    /** @param {any} node */
    const check = (node) => {
      const specifier = node.source?.value;
      if (typeof specifier !== 'string') return;
      const to = resolveSpecifier(from, specifier);
      if (to === null) return;
      const why = boundaryViolation(from, to);
      if (why !== null) context.report({ node: node.source, messageId: 'boundary', data: { why } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export const moduleBoundariesPlugin = { rules: { 'module-boundaries': moduleBoundariesRule } };
