import { defineConfig } from 'vitest/config'

// Tests whose figures depend on the CPU they get (open-loop load, SIGTERM under connection
// churn, Redis Sentinel and Cluster failovers on a schedule): they run after everything else, one
// file at a time, so no other test file competes with the servers they measure.
const UNDER_LOAD = [
  'packages/overload/test/load.test.ts',
  'packages/shutdown/test/sigterm.test.ts',
  'packages/session/test/cluster.test.ts',
  'packages/session/test/sentinel.test.ts',
]

export default defineConfig({
  test: {
    // Tests start real servers, Redis processes and child processes; two cores
    // run them best a few files at a time, with room for slow CI machines.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...UNDER_LOAD],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'under-load',
          include: UNDER_LOAD,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
