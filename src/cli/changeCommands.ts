import type { Command } from 'commander';
import type { PendingChange } from '../domain/index.js';
import { callApi, resolveApiTarget } from './apiClient.js';
import { apiOptions, dropUndefined, type ApiOptions } from './cameraCommands.js';
import { printJson, printTable } from './output.js';

/** `psvgw changes list|approve|reject|withdraw`: the four-eyes queue of changes that weaken protection. */
export function registerChangeCommands(program: Command): void {
  const changes = program
    .command('changes')
    .description('changes that weaken protection (mask removal, hold lift, lower retention, …), pending a second admin');

  apiOptions(
    changes
      .command('list')
      .description('list pending changes (or all with --all)')
      .option('--all', 'every state, not only pending')
      .option('--json', 'print JSON'),
  ).action(async (o: ApiOptions & { all?: boolean; json?: boolean }) => {
    const page = await callApi<{ items: PendingChange[] }>(
      resolveApiTarget(o),
      'GET',
      `/api/v1/pending-changes${o.all ? '' : '?state=pending'}`,
    );
    if (o.json) return printJson(page);
    printTable(
      page.items.map((c) => ({
        id: c.id,
        state: c.state,
        kind: c.kind,
        summary: c.summary,
        proposedBy: c.proposedBy.username,
        proposedAt: c.proposedAt,
        expiresAt: c.expiresAt,
      })),
      ['id', 'state', 'kind', 'summary', 'proposedBy', 'proposedAt', 'expiresAt'],
    );
  });

  for (const [verb, help] of [
    ['approve', 'apply a pending change (an admin other than its proposer)'],
    ['reject', 'refuse a pending change (a reason is required)'],
    ['withdraw', 'withdraw a change you proposed'],
  ] as const) {
    apiOptions(
      changes
        .command(verb)
        .description(help)
        .argument('<id>', 'the pending change id (see changes list)')
        .option('--reason <text>', 'why')
        .option('--json', 'print JSON'),
    ).action(async (id: string, o: ApiOptions & { reason?: string; json?: boolean }) => {
      const body = dropUndefined({ reason: o.reason });
      const change = await callApi<PendingChange>(
        resolveApiTarget(o),
        'POST',
        `/api/v1/pending-changes/${encodeURIComponent(id)}/${verb}`,
        body,
      );
      if (o.json) printJson(change);
      else process.stdout.write(`change ${change.id} (${change.summary}) is ${change.state}\n`);
    });
  }
}
