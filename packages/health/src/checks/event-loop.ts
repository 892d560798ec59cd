import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { InvalidOptionError, shown } from '../errors.js'
import { milliseconds } from '../options.js'
import type { HealthCheck } from '../options.js'

/** Options of `eventLoopCheck()`. */
export interface EventLoopCheckOptions {
  /**
   * Largest event-loop delay at `percentile` since the previous check, in milliseconds.
   * @default 200
   */
  maxDelayMs?: number
  /**
   * Which percentile of the delays to compare, in (0, 100].
   * @default 99
   */
  percentile?: number
  /**
   * Sampling resolution of the delay monitor, in milliseconds.
   * @default 10
   */
  resolutionMs?: number
}

/** Defaults of `eventLoopCheck()` options. */
export const EVENT_LOOP_CHECK_DEFAULTS: {
  readonly maxDelayMs: 200
  readonly percentile: 99
  readonly resolutionMs: 10
} = Object.freeze({ maxDelayMs: 200, percentile: 99, resolutionMs: 10 })

const NS_PER_MS = 1e6

/**
 * Checks the event-loop delay (`perf_hooks.monitorEventLoopDelay`) over the
 * window since the previous check. The monitor starts on the first check,
 * so nothing samples until health is used, and stops on `health.close()`.
 * Details: `{ delayMs, percentile, samples }`.
 */
export function eventLoopCheck(options: EventLoopCheckOptions = {}): HealthCheck {
  const maxDelayMs = milliseconds(
    'maxDelayMs',
    options.maxDelayMs ?? EVENT_LOOP_CHECK_DEFAULTS.maxDelayMs,
    1,
  )
  const resolutionMs = milliseconds(
    'resolutionMs',
    options.resolutionMs ?? EVENT_LOOP_CHECK_DEFAULTS.resolutionMs,
    1,
  )
  const percentile = options.percentile ?? EVENT_LOOP_CHECK_DEFAULTS.percentile
  if (typeof percentile !== 'number' || !(percentile > 0 && percentile <= 100)) {
    throw new InvalidOptionError(
      'percentile',
      'must be a number above 0 and at most 100',
      shown(percentile),
    )
  }
  let histogram: IntervalHistogram | undefined

  const check: HealthCheck = () => {
    if (histogram === undefined) {
      histogram = monitorEventLoopDelay({ resolution: resolutionMs })
      histogram.enable()
    }
    const samples = histogram.count
    // The histogram records whole timer intervals; the delay is what exceeds the resolution.
    const delayMs =
      samples === 0
        ? 0
        : Math.max(
            0,
            Math.round((histogram.percentile(percentile) / NS_PER_MS - resolutionMs) * 10) / 10,
          )
    histogram.reset()
    if (delayMs > maxDelayMs) {
      throw new Error(`event-loop delay p${percentile} is ${delayMs} ms (max ${maxDelayMs} ms)`)
    }
    return { delayMs, percentile, samples }
  }
  check.close = () => {
    histogram?.disable()
    histogram = undefined
  }
  return check
}
