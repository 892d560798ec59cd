/**
 * A concurrency limit learned from response times: Netflix concurrency-limits' Gradient2.
 * Each window compares the window's average response time (short) with a long-term average
 * (long); when short rises past `tolerance x long`, queueing has started somewhere downstream
 * and the limit shrinks in proportion, otherwise it grows by sqrt(limit). Unlike Vegas, it
 * needs no "no-load" minimum response time, which in Node a GC pause or a cold cache makes
 * meaningless and which Vegas can only refresh by dropping the limit now and then.
 */
export interface AdaptiveLimit {
  /** The current limit, a whole number of requests. */
  readonly limit: number
  /** Records one completed request: its response time and how many were in flight when it started. */
  sample(responseMs: number, inFlight: number): void
  /** Ends the current window and updates the limit when it has enough samples. */
  update(): void
}

/** Gradient2's parameters; the defaults are Netflix's, but for the floor. */
export const GRADIENT: Readonly<{
  initialLimit: number
  minLimit: number
  maxLimit: number
  tolerance: number
  smoothing: number
  longWindows: number
  minSamples: number
}> = Object.freeze({
  /** Where the limit starts. */
  initialLimit: 20,
  /** A floor of a few slots, so a slow spell cannot starve the service to one request at a time. */
  minLimit: 4,
  /** Ceiling of the limit. */
  maxLimit: 1000,
  /** Short over long response time taken as noise rather than queueing. */
  tolerance: 1.5,
  /** Share of the newly computed limit taken each window (the rest is the old limit). */
  smoothing: 0.2,
  /** Windows the long-term average spans (an exponential average of window averages). */
  longWindows: 60,
  /** Samples a window needs before it updates anything. */
  minSamples: 10,
})

/** A Gradient2 limit starting at `GRADIENT.initialLimit`. */
export function gradientLimit(): AdaptiveLimit {
  let limit: number = GRADIENT.initialLimit
  let longMs = 0
  let sumMs = 0
  let samples = 0
  let maxInFlight = 0
  const alpha = 2 / (GRADIENT.longWindows + 1)
  return {
    get limit() {
      return Math.floor(limit)
    },
    sample(responseMs, inFlight) {
      sumMs += responseMs
      samples++
      if (inFlight > maxInFlight) maxInFlight = inFlight
    },
    update() {
      if (samples < GRADIENT.minSamples) return
      const shortMs = Math.max(sumMs / samples, 0.001)
      const busiest = maxInFlight
      sumMs = 0
      samples = 0
      maxInFlight = 0
      // Rising: slower than the long-term average so far. Gradient2 would still grow here while
      // the rise stays within the tolerance; but when the limit is past what a dependency can
      // serve, each added slot only adds queueing (response time grows with the limit), the
      // long average follows the short one, and the limit climbs without end.
      const rising = longMs !== 0 && shortMs > longMs
      longMs = longMs === 0 ? shortMs : longMs + alpha * (shortMs - longMs)
      // Gradient2: when the recent average falls far below the long one (a recovered
      // dependency), pull the long one down faster so the limit can grow back.
      if (longMs / shortMs > 2) longMs *= 0.95
      // Too little traffic to use the limit: its response times say nothing about a larger one.
      if (busiest < limit / 2) return
      const gradient = Math.max(0.5, Math.min(1, (GRADIENT.tolerance * longMs) / shortMs))
      // sqrt(limit) slots on top (Netflix's Gradient queue size), so the limit keeps probing for
      // more while response times are flat or falling; at the floor gradient of 0.5 it settles
      // at minLimit rather than above it.
      // While response times rise the probe is held back: the limit may shrink, never grow.
      const next = limit * gradient + (rising ? 0 : Math.sqrt(limit))
      limit = limit * (1 - GRADIENT.smoothing) + next * GRADIENT.smoothing
      limit = Math.max(GRADIENT.minLimit, Math.min(GRADIENT.maxLimit, limit))
    },
  }
}

/** A fixed limit (the `concurrency` option given as a number). */
export function fixedLimit(limit: number): AdaptiveLimit {
  return { limit, sample() {}, update() {} }
}
