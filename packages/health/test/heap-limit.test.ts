import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const fixture = fileURLToPath(new URL('./fixtures/heap-limit.mjs', import.meta.url))
const MB = 1024 * 1024

interface HeapLine {
  phase: string
  usedOverTotal: number
  heap: { status: string; details?: { usedRatio: number } }
}

describe('scenario 5: heapCheck in a process started with --max-old-space-size=64', () => {
  it('passes at low use even with heapUsed/heapTotal above 0.9, fails past 90% of the limit', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--max-old-space-size=64', fixture],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
      },
    )
    const [low, high] = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as HeapLine)
    expect(low?.usedOverTotal).toBeGreaterThan(0.9)
    expect(low?.heap).toEqual({
      status: 'pass',
      critical: true,
      durationMs: expect.any(Number),
      details: {
        usedBytes: expect.any(Number),
        limitBytes: 64 * MB,
        usedRatio: expect.any(Number),
        heapSizeLimitBytes: expect.any(Number),
      },
    })
    expect(low?.heap.details?.usedRatio).toBeLessThan(0.5)
    expect(high?.heap).toEqual({
      status: 'fail',
      critical: true,
      durationMs: expect.any(Number),
      error: expect.stringMatching(
        /^heap used \d+\.\d MB is 9\d\.\d% of the 64\.0 MB limit \(max 90%\)$/,
      ),
    })
  })
})
