import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A real Kubernetes control plane, started only if a test asks for one (test/support/control-plane.ts).
    globalSetup: ['test/support/control-plane-setup.ts'],
  },
});
