import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const fixture = fileURLToPath(new URL('./fixtures/heap-limit.mjs', import.meta.url))
const MB = 1024 * 1024

interface HeapLine {
  phase: string
  heap: { status: string; details?: { usedRatio: number } }
}

async function runFixture(pattern: string): Promise<HeapLine[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--max-old-space-size=64', fixture, pattern],
    { cwd: fileURLToPath(new URL('..', import.meta.url)) },
  )
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as HeapLine)
}

describe('scenario 5: heapCheck in a process started with --max-old-space-size=64', () => {
  it.each(['objects', 'large', 'medium', 'strings'])(
    'passes at low use and fails past 90 % of the limit before the process runs out of memory (%s)',
    async (pattern) => {
      const [low, high] = await runFixture(pattern)
      expect(low?.heap).toEqual({
        status: 'pass',
        critical: true,
        durationMs: expect.any(Number),
        details: {
          usedBytes: expect.any(Number),
          limitBytes: 64 * MB,
          usedRatio: expect.any(Number),
        },
      })
      expect(low?.heap.details?.usedRatio).toBeLessThan(0.5)
      expect(high?.heap).toEqual({
        status: 'fail',
        critical: true,
        durationMs: expect.any(Number),
        error: expect.stringMatching(
          /^heap used \d+\.\d MB is \d+\.\d% of the 64\.0 MB limit \(max 90%\)$/,
        ),
        details: {
          usedBytes: expect.any(Number),
          limitBytes: 64 * MB,
          usedRatio: expect.any(Number),
        },
      })
      expect(high?.heap.details?.usedRatio).toBeGreaterThanOrEqual(0.9)
    },
  )
})
