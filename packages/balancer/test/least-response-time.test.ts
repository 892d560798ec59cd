import { afterEach, describe, expect, it, vi } from 'vitest'
import { seeded } from '../../../test/support/seeded.js'
import { runModel, type ModelRun } from './open-loop-model.js'

const fast = { serviceMs: 5, concurrency: 4 }
const base = { rate: 300, seconds: 8, decayMs: 10_000, failurePenaltyMs: 1000 } as const
// A loaded machine: the client's event loop stops for 40 ms twice a second, so every answer
// read after a stall looks 40 ms slower, on every upstream at once.
const stalls = { everyMs: 500, durationMs: 40 }

/** The run under a seeded `Math.random` (the two random choices), so it is the same every time. */
function model(
  run: Omit<ModelRun, keyof typeof base> & Partial<ModelRun>,
  seed: number,
): ReturnType<typeof runModel> {
  vi.spyOn(Math, 'random').mockImplementation(seeded(seed))
  return runModel({ ...base, ...run })
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('least-response-time in a deterministic open-loop model (injected clock)', () => {
  it.each([
    ['10x slower', { serviceMs: 50, concurrency: 4 }],
    ['answering fast 503s', { serviceMs: 0, concurrency: 4, fails: true }],
  ])(
    'sends under one percent of the traffic to an upstream %s while client stalls inflate every answer',
    (_name, bad) => {
      for (const seed of [1, 2, 3]) {
        const healthy = model({ upstreams: [fast, fast, fast], stalls }, seed)
        const result = model({ upstreams: [fast, fast, bad], stalls }, seed)
        const [a, b, c] = result.attempts as [number, number, number]
        // Under 1 % on the bad upstream keeps its answers out of the p99. A peak that takes a
        // stalled fast answer at once gave it 5 % here and the p99 1.5x the healthy one.
        expect(c / (a + b + c)).toBeLessThan(0.01)
        expect(result.p99).toBeLessThanOrEqual(healthy.p99 * 1.1)
      }
    },
  )

  it('stops sending to an upstream that hangs once its oldest request is older than failurePenaltyMs', () => {
    const hung = { ...fast, hangsAfterMs: 2000 }
    for (const seed of [1, 2, 3]) {
      const result = model(
        { upstreams: [fast, fast, hung], seconds: 40, failurePenaltyMs: 200 },
        seed,
      )
      const before = model({ upstreams: [fast, fast, fast], seconds: 2 }, seed).attempts[2]!
      // Once its oldest request is 200 ms old, the age of that request prices the hung upstream
      // out (2 more requests here). Without the age it looked ever faster as its average
      // decayed toward 0 with no answer, and took 88 more requests in the 38 s it hung.
      expect(result.attempts[2]! - before).toBeLessThan(10)
    }
  })
})
