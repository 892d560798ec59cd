import { describe, expect, it } from 'vitest'
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
})
