import { defineConfig } from 'vitest/config';

// Unit tests run in parallel; integration tests start real cameras, ffmpeg and gateways
// on a 2-core machine, so they run one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], pool: 'forks' },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          pool: 'forks',
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
