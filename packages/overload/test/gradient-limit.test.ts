import { describe, expect, it } from 'vitest'
import { seeded } from '../../../test/support/seeded.js'
import { GRADIENT, gradientLimit } from '../src/gradient-limit.js'

/** Feeds one window of `n` samples of `ms` each with `inFlight` requests running. */
function window(limit: ReturnType<typeof gradientLimit>, ms: number, inFlight: number, n = 20) {
  for (let i = 0; i < n; i++) limit.sample(ms, inFlight)
  limit.update()
}

describe('gradientLimit', () => {
  it('grows while requests use the limit and response times stay flat', () => {
    const limit = gradientLimit()
    for (let i = 0; i < 20; i++) window(limit, 10, limit.limit)
    expect(limit.limit).toBeGreaterThan(GRADIENT.initialLimit * 2)
  })

  it('shrinks when response times rise past the tolerance, and not below its floor', () => {
    const limit = gradientLimit()
    for (let i = 0; i < 10; i++) window(limit, 10, limit.limit)
    const before = limit.limit
    for (let i = 0; i < 5; i++) window(limit, 40, limit.limit)
    expect(limit.limit).toBeLessThan(before)
    // Response times that keep climbing: the gradient stays at its floor of 0.5.
    for (let i = 0; i < 100; i++) window(limit, 10 * 1.5 ** i, limit.limit)
    expect(limit.limit).toBe(GRADIENT.minLimit)
  })

  it('stays put when too few requests run to tell (app-limited) or a window is too small', () => {
    const limit = gradientLimit()
    for (let i = 0; i < 20; i++) window(limit, 10, 1)
    expect(limit.limit).toBe(GRADIENT.initialLimit)
    window(limit, 1000, 20, GRADIENT.minSamples - 1)
    expect(limit.limit).toBe(GRADIENT.initialLimit)
  })

  it('never grows while response times rise, even within the tolerance', () => {
    // Past what a dependency serves, each slot only adds queueing: response time grows with the
    // limit (Little's law), slowly enough that the short average stays under 1.5x the long one.
    const limit = gradientLimit()
    for (let i = 0; i < 10; i++) window(limit, 10, limit.limit)
    let ms = 10
    let before = limit.limit
    for (let i = 0; i < 100; i++) {
      ms *= 1.02
      window(limit, ms, limit.limit)
      expect(limit.limit).toBeLessThanOrEqual(before)
      before = limit.limit
    }
    // Latency proportional to the limit (a saturated dependency): one probe on flat response
    // times, whose slot raised them, and no climb after it.
    const saturated = gradientLimit()
    for (let i = 0; i < 2; i++) window(saturated, 5 * saturated.limit, saturated.limit)
    const probed = saturated.limit
    expect(probed).toBeLessThanOrEqual(GRADIENT.initialLimit + 1)
    for (let i = 0; i < 200; i++) window(saturated, 5 * saturated.limit, saturated.limit)
    expect(saturated.limit).toBeLessThanOrEqual(probed)
  })

  describe('under +-10 % response-time noise (per window and per request), 600 windows', () => {
    /**
     * Runs 600 windows of 20 requests: `inFlight(limit)` running, `ms(limit)` each times the
     * window's noise and the request's noise, both uniform in +-10 %. Returns the limit after
     * each window.
     */
    const run = (
      seed: number,
      ms: (limit: number) => number,
      inFlight: (limit: number) => number,
    ) => {
      const random = seeded(seed)
      const noise = () => 1 + (random() * 2 - 1) * 0.1
      const limit = gradientLimit()
      const trace: number[] = []
      for (let w = 0; w < 600; w++) {
        const now = limit.limit
        const windowNoise = noise()
        for (let i = 0; i < 20; i++) limit.sample(ms(now) * windowNoise * noise(), inFlight(now))
        limit.update()
        trace.push(limit.limit)
      }
      return trace
    }
    const seeds = Array.from({ length: 20 }, (_, i) => 1000 + i)

    it('stays put while only part of the limit is used, however noisy the response times', () => {
      // 13 of 20 slots in use: no request ever waits, so more slots cannot help.
      for (const seed of seeds) {
        expect(
          Math.max(
            ...run(
              seed,
              () => 10,
              () => 13,
            ),
          ),
        ).toBe(GRADIENT.initialLimit)
      }
    })

    it('does not creep past a saturated dependency (response time proportional to the limit)', () => {
      for (const seed of seeds) {
        const trace = run(
          seed,
          (limit) => 0.5 * limit,
          (limit) => limit,
        )
        // A probe now and then, given back: never above one probe's step, and at or under the
        // start value nine windows in ten (a noisy spike may shrink it a little).
        const probe = Math.floor(GRADIENT.initialLimit * (1 + GRADIENT.probeShare))
        expect(Math.max(...trace)).toBeLessThanOrEqual(probe)
        const atStart = trace.filter((l) => l <= GRADIENT.initialLimit).length
        expect(atStart / trace.length).toBeGreaterThan(0.9)
      }
    })

    it('still grows while every slot is used and response times stay flat', () => {
      for (const seed of seeds) {
        const trace = run(
          seed,
          () => 10,
          (limit) => limit,
        )
        expect(trace.at(-1)).toBeGreaterThan(10 * GRADIENT.initialLimit)
      }
    })
  })
})
