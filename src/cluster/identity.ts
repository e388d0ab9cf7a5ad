import { hostname } from 'node:os';

/** The node's name: `cluster.nodeName` (PSVGW_NODE_NAME), else the host name made into a valid name. */
export function nodeNameOf(configured: string | undefined, host: string = hostname()): string {
  if (configured !== undefined) return configured;
  const name = host
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return name === '' ? 'node' : name;
}
