import { readFileSync } from 'node:fs';

/** What a test needs to know of a Dockerfile's final stage: its ENV, USER, COPY lines and CMD. */
export interface DockerfileRuntime {
  env: Record<string, string>;
  user: string | undefined;
  /** COPY lines without --from: [source in the build context, destination in the image]. */
  copies: Array<[string, string]>;
  cmd: string[];
  entrypoint: string[];
}

/** Instructions with their line continuations joined and comments dropped. */
function instructions(text: string): Array<[string, string]> {
  const joined = text.replace(/\\\r?\n/g, ' ');
  return joined
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l): [string, string] => {
      const space = l.search(/\s/);
      return space < 0 ? [l.toUpperCase(), ''] : [l.slice(0, space).toUpperCase(), l.slice(space + 1).trim()];
    });
}

/** `ENV A=1 B="two words"` (and the legacy `ENV A 1`) as key/value pairs. */
function envPairs(args: string): Array<[string, string]> {
  if (!args.includes('=')) {
    const [key = '', ...rest] = args.split(/\s+/);
    return [[key, rest.join(' ')]];
  }
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)].map(([, key, raw]) => {
    const value = raw ?? '';
    const quoted = value.startsWith('"') || value.startsWith("'");
    return [key ?? '', quoted ? value.slice(1, -1) : value];
  });
}

function execForm(args: string, what: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new Error(`${what} is not an exec-form JSON array: ${args}`);
  return parsed;
}

/** Parses the last stage (after the last FROM) of the Dockerfile at `path`. */
export function readDockerfileRuntime(path: string): DockerfileRuntime {
  const all = instructions(readFileSync(path, 'utf8'));
  const lastFrom = all.map(([op]) => op).lastIndexOf('FROM');
  const runtime: DockerfileRuntime = { env: {}, user: undefined, copies: [], cmd: [], entrypoint: [] };
  for (const [op, args] of all.slice(lastFrom + 1)) {
    if (op === 'ENV') for (const [k, v] of envPairs(args)) runtime.env[k] = v;
    else if (op === 'USER') runtime.user = args;
    else if (op === 'CMD') runtime.cmd = execForm(args, 'CMD');
    else if (op === 'ENTRYPOINT') runtime.entrypoint = execForm(args, 'ENTRYPOINT');
    else if (op === 'COPY' && !args.startsWith('--from')) {
      const parts = args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const dest = parts.pop();
      if (dest !== undefined) for (const source of parts) runtime.copies.push([source, dest]);
    }
  }
  return runtime;
}
