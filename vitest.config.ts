import { defineConfig } from 'vitest/config';

/**
 * Integration files that assert how fast something happens (first picture, death detection,
 * BYE to last packet, keepalive gaps, a browser decoding a wall of tiles). They run one at a
 * time after everything else, alone on the machine, so another file's ffmpeg cannot make them late.
 */
const TIMED = [
  'tests/integration/gb28181/invite.test.ts',
  'tests/integration/gb28181/liveSender.test.ts',
  'tests/integration/gb28181/playback.test.ts',
  'tests/integration/gb28181/playbackSender.test.ts',
  'tests/integration/gb28181/signalling.test.ts',
  // The console's browser tests wait on the UI with short deadlines (its API test has no browser).
  'tests/integration/console/console.test.ts',
  'tests/integration/console/editing.test.ts',
  'tests/integration/console/pages.test.ts',
  'tests/integration/console/playbackSync.test.ts',
  'tests/integration/gateway/live.test.ts',
  'tests/integration/gateway/lifecycle.test.ts',
  'tests/integration/gateway/push.test.ts',
  'tests/integration/gateway/recovery.test.ts',
  'tests/integration/health/outages.test.ts',
  'tests/integration/health/stalls.test.ts',
  'tests/integration/testCamera.test.ts',
  'tests/integration/store/storeOffLoop.test.ts',
  'tests/integration/cluster/cluster.test.ts',
  'tests/integration/cluster/fencing.test.ts',
  // Records on through a PostgreSQL restart only while its own event loop keeps up (docs/cluster.md).
  'tests/integration/cluster/dbRestart.test.ts',
  'tests/integration/desensitize/sharedTierFaces.test.ts',
  'tests/integration/cluster/playAnyNode.test.ts',
  'tests/integration/cluster/platformLink.test.ts',
];

const integration = { pool: 'forks', testTimeout: 90_000, hookTimeout: 60_000 } as const;

// Unit tests run in parallel. Integration tests start real cameras, ffmpeg and gateways and
// spend most of their time waiting on them, so two files share the 2-core machine; the timed
// ones follow, one at a time.
export default defineConfig({
  test: {
    projects: [
      {
        // The same two workers as the untimed integration files: projects of one group share them.
        test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], pool: 'forks', maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        test: {
          ...integration,
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          exclude: TIMED,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...integration,
          name: 'integration-timed',
          include: TIMED,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
