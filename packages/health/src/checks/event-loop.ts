import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { finiteNumber, milliseconds, optionsObject } from '@uptimekit/internal'
import { CheckFailedError } from '../errors.js'
import type { HealthCheck } from '../options.js'
import { reading } from './reading.js'

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
 * Checks the event-loop delay (`perf_hooks.monitorEventLoopDelay`) over the window since the
 * previous check. The monitor starts on the first check, so nothing samples until health is
 * used, and stops on `health.close()`. A check whose window holds no sample yet (the first one,
 * or two checks closer together than `resolutionMs`) waits for one, within its deadline, so no
 * check passes on an empty window. Details: `{ delayMs, percentile, samples }`; IETF reading
 * `delay` in ms.
 */
export function eventLoopCheck(options: EventLoopCheckOptions = {}): HealthCheck {
  const given = optionsObject('eventLoopCheck', options, [
    'maxDelayMs',
    'percentile',
    'resolutionMs',
  ])
  const maxDelayMs = milliseconds(
    'maxDelayMs',
    given.maxDelayMs ?? EVENT_LOOP_CHECK_DEFAULTS.maxDelayMs,
  )
  const resolutionMs = milliseconds(
    'resolutionMs',
    given.resolutionMs ?? EVENT_LOOP_CHECK_DEFAULTS.resolutionMs,
  )
  const percentile = finiteNumber(
    'percentile',
    given.percentile ?? EVENT_LOOP_CHECK_DEFAULTS.percentile,
    { above: 0, max: 100 },
  )
  let histogram: IntervalHistogram | undefined

  const check: HealthCheck = async (signal) => {
    if (histogram === undefined) {
      histogram = monitorEventLoopDelay({ resolution: resolutionMs })
      histogram.enable()
    }
    const monitor = histogram
    while (monitor.count === 0) await sleep(resolutionMs, undefined, { signal })
    const samples = monitor.count
    // The histogram records whole timer intervals; the delay is what exceeds the resolution.
    const delayMs = Math.max(
      0,
      Math.round((monitor.percentile(percentile) / NS_PER_MS - resolutionMs) * 10) / 10,
    )
    monitor.reset()
    const details = { delayMs, percentile, samples }
    if (delayMs > maxDelayMs) {
      throw new CheckFailedError(
        `event-loop delay p${percentile} is ${delayMs} ms (max ${maxDelayMs} ms)`,
        details,
      )
    }
    return details
  }
  check.close = () => {
    histogram?.disable()
    histogram = undefined
  }
  check.componentType = 'system'
  check.observe = (details) => reading(details, 'delayMs', 'delay', 'ms')
  return check
}
