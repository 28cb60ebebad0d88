import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Child processes and network namespaces: one process per file.
    pool: 'forks',
    testTimeout: 20_000,
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
