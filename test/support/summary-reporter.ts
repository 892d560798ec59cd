import type { Reporter, TestModule } from 'vitest/node'

/**
 * Prints one closing line, `tests: N passed, N failed, N skipped`, in the plain
 * form CI reads, after vitest's own summary. A file that could not run counts
 * as one failure.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const module of testModules) {
      const failedBefore = failed
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed++
        else if (state === 'failed') failed++
        else skipped++
      }
      // A file that fails before its tests run (an import error, a failing
      // top-level await) would otherwise count as nothing at all.
      if (module.state() === 'failed' && failed === failedBefore) failed++
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}
