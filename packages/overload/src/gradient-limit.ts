/**
 * A concurrency limit learned from response times, after Netflix concurrency-limits' Gradient2.
 * Each window compares the window's average response time (short) with a long-term average
 * (long); when short rises past `tolerance x long`, queueing has started somewhere downstream
 * and the limit shrinks in proportion. It grows by probes judged with Little's law (see
 * `gradientLimit`). Unlike Vegas, it needs no "no-load" minimum response time, which in Node a
 * GC pause or a cold cache makes meaningless and which Vegas can only refresh by dropping the
 * limit now and then.
 */
export interface AdaptiveLimit {
  /** The current limit, a whole number of requests. */
  readonly limit: number
  /** Records one completed request: its response time and how many were in flight when it started. */
  sample(responseMs: number, inFlight: number): void
  /** Ends the current window and updates the limit when it has enough samples. */
  update(): void
}

/** Gradient2's parameters; the defaults are Netflix's, but for the floor and the probe. */
export const GRADIENT: Readonly<{
  initialLimit: number
  minLimit: number
  maxLimit: number
  tolerance: number
  smoothing: number
  longWindows: number
  recentWindows: number
  minSamples: number
  probeShare: number
  settleWindows: number
}> = Object.freeze({
  /** Where the limit starts. */
  initialLimit: 20,
  /** A floor of a few slots, so a slow spell cannot starve the service to one request at a time. */
  minLimit: 4,
  /** Ceiling of the limit. */
  maxLimit: 1000,
  /** Short over long response time taken as noise rather than queueing. */
  tolerance: 1.5,
  /** Share of the newly computed limit taken each window when it shrinks (the rest is the old limit). */
  smoothing: 0.2,
  /** Windows the long-term average spans (an exponential average of window averages). */
  longWindows: 60,
  /** Windows the recent average spans, so one quiet window is not taken for flat response times. */
  recentWindows: 5,
  /** Samples a window needs before it updates anything. */
  minSamples: 10,
  /** A probe adds this share of the limit (at least one slot): large enough that the rise it
   * causes behind a saturated dependency stands out of +-10 % noise. */
  probeShare: 0.3,
  /** Windows a probe runs before its response times are judged (the first one is skipped). */
  settleWindows: 5,
})

/** A probe in progress: the limit before it and the long-term response time then. */
interface Probe {
  readonly fromLimit: number
  readonly fromMs: number
  windows: number
  sumMs: number
}

/**
 * A Gradient2 limit starting at `GRADIENT.initialLimit`. It shrinks as Gradient2 does; it grows
 * by probes: only when every slot was taken in a window (demand past the limit) and the recent
 * response time is at or under the long one, it adds `probeShare` of the limit, runs
 * `settleWindows` at the new limit, and keeps the slots only if response times rose by less than
 * half the share added (Little's law: the slots bought throughput). Otherwise it goes back and
 * probes again only after `longWindows`. Growing by a small step every quiet window instead made
 * the limit creep under latency noise: with +-10 % per window it went 20 -> 26 while only 13
 * slots were used, and climbed past a saturated dependency's capacity, as each noisy low window
 * looked flat.
 */
export function gradientLimit(): AdaptiveLimit {
  let limit: number = GRADIENT.initialLimit
  let longMs = 0
  let recentMs = 0
  let longCount = 0
  let sumMs = 0
  let samples = 0
  let maxInFlight = 0
  let probe: Probe | undefined
  // No probe before the long average has seen a few windows; after a failed probe, a long wait.
  let holdWindows: number = 2 * GRADIENT.recentWindows
  const alpha = 2 / (GRADIENT.longWindows + 1)
  const recentAlpha = 2 / (GRADIENT.recentWindows + 1)
  const clamp = (value: number) => Math.max(GRADIENT.minLimit, Math.min(GRADIENT.maxLimit, value))
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
      recentMs = recentMs === 0 ? shortMs : recentMs + recentAlpha * (shortMs - recentMs)
      // Rising: slower than the long-term average so far. Gradient2 would still grow here while
      // the rise stays within the tolerance; but when the limit is past what a dependency can
      // serve, each added slot only adds queueing (response time grows with the limit), the
      // long average follows the short one, and the limit climbs without end.
      const rising = longMs !== 0 && recentMs > longMs
      // The long average is the response time at the limit kept: windows of a probe are left
      // out of it. Until it spans `longWindows`, it is the plain mean of the windows seen, so the
      // first window's noise does not stand for the baseline.
      if (probe === undefined) {
        longCount = Math.min(longCount + 1, GRADIENT.longWindows)
        longMs += Math.max(alpha, 1 / longCount) * (shortMs - longMs)
      }
      // Gradient2: when the recent average falls far below the long one (a recovered
      // dependency), pull the long one down faster so the limit can grow back.
      if (longMs / shortMs > 2) longMs *= 0.95
      if (holdWindows > 0) holdWindows--
      // Too little traffic to use the limit: its response times say nothing about a larger one.
      if (busiest < limit / 2) return
      const gradient = Math.max(0.5, Math.min(1, (GRADIENT.tolerance * longMs) / shortMs))
      if (gradient < 1) {
        // Queueing: shrink in proportion, smoothed; at the floor gradient of 0.5 it settles at
        // minLimit. A probe under way failed: its slots go first.
        if (probe !== undefined) limit = probe.fromLimit
        probe = undefined
        limit = clamp(limit * (1 - GRADIENT.smoothing) + limit * gradient * GRADIENT.smoothing)
        return
      }
      if (probe !== undefined) {
        const { fromLimit, fromMs } = probe
        probe.windows++
        // The first window after the step mixes requests admitted before it.
        if (probe.windows > 1) probe.sumMs += shortMs
        if (probe.windows < GRADIENT.settleWindows) return
        const afterMs = probe.sumMs / (probe.windows - 1)
        probe = undefined
        // Little's law: if response times rose by half the share of slots added or more, the
        // slots bought little throughput; they only queue behind a saturated dependency.
        if (afterMs / fromMs - 1 > (limit / fromLimit - 1) / 2) {
          limit = fromLimit
          holdWindows = GRADIENT.longWindows
          return
        }
        // Kept: the next probe may start at once.
      }
      if (busiest < Math.floor(limit) || rising || holdWindows > 0) return
      const next = clamp(limit + Math.max(1, limit * GRADIENT.probeShare))
      if (next === limit) return
      // Judged against the long average: the recent one is low whenever a probe starts (it starts
      // only when recent <= long), so against it noise alone would look like a rise.
      probe = { fromLimit: limit, fromMs: longMs, windows: 0, sumMs: 0 }
      limit = next
    },
  }
}

/** A fixed limit (the `concurrency` option given as a number). */
export function fixedLimit(limit: number): AdaptiveLimit {
  return { limit, sample() {}, update() {} }
}
