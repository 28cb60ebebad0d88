import { defineConfig } from 'vitest/config';

// The whole suite runs once per backend of @udpkit/core.
export default defineConfig({
  test: {
    // Native addons and real sockets: one process per file, no shared threads.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
    projects: [
      { extends: true, test: { name: 'native', include: ['test/**/*.test.ts'], env: { UDPKIT_BACKEND: 'native' } } },
      { extends: true, test: { name: 'portable', include: ['test/**/*.test.ts'], env: { UDPKIT_BACKEND: 'portable' } } },
    ],
  },
});
