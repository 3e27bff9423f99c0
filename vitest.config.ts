import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two workers on CI's 2 cores: the real-control-plane tests mostly wait on the apiserver, the
    // agent and Prometheus, so one worker left a core idle and the run took ~26 minutes (~15 with two).
    maxWorkers: 2,
    // A real Kubernetes control plane, started only if a test asks for one (test/support/control-plane.ts).
    globalSetup: ['test/support/control-plane-setup.ts'],
  },
});
