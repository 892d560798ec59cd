import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks'
import { heapUsage } from './heap-usage.js'

/** The pressure signals, as read at one sample. */
export interface PressureReadings {
  /** p99 of the event-loop delay over the last window (half to all of `windowMs`), in ms. */
  readonly eventLoopDelayMs: number
  /** Event-loop utilization (0..1) since the previous sample, not since the process started. */
  readonly eventLoopUtilization: number
  /** Lowest share of the V8 heap limit in use read over the last `windowMs` (as heapCheck reads it). */
  readonly heapUsedRatio: number
}

/** Reads the pressure signals; `sample()` is called every `sampleIntervalMs`. */
export interface PressureMonitor {
  /** Takes one sample and returns the readings over their windows. */
  sample(): PressureReadings
  /** Stops the event-loop delay monitors. */
  close(): void
}

// The delay monitor's timer period; the histogram records whole periods, so it is taken off.
const RESOLUTION_MS = 10

/**
 * Watches the event loop and the heap over a sliding window. The delay p99 comes from two
 * `monitorEventLoopDelay` histograms reset in turn every half window, read from the older one,
 * so a reading always covers between half a window and a whole one: a true p99 of the samples
 * in that span (histograms cannot be merged, so buckets of them would not give one).
 */
export function pressureMonitor(windowMs: number, sampleIntervalMs: number): PressureMonitor {
  const histograms: [IntervalHistogram, IntervalHistogram] = [
    monitorEventLoopDelay({ resolution: RESOLUTION_MS }),
    monitorEventLoopDelay({ resolution: RESOLUTION_MS }),
  ]
  for (const h of histograms) h.enable()
  const samplesPerHalf = Math.max(1, Math.round(windowMs / 2 / sampleIntervalMs))
  const heapSlots = Math.max(1, Math.round(windowMs / sampleIntervalMs))
  const heap: number[] = []
  const heapUsedRatio = heapUsage()
  let older: 0 | 1 = 0
  let samples = 0
  let lastElu = performance.eventLoopUtilization()

  return {
    sample() {
      const elu = performance.eventLoopUtilization()
      const utilization = performance.eventLoopUtilization(elu, lastElu).utilization
      lastElu = elu
      heap.push(heapUsedRatio())
      if (heap.length > heapSlots) heap.shift()
      const read = histograms[older]
      const p99Ms = read.count === 0 ? 0 : read.percentile(99) / 1e6 - RESOLUTION_MS
      samples++
      if (samples % samplesPerHalf === 0) {
        read.reset()
        older = older === 0 ? 1 : 0
      }
      return {
        eventLoopDelayMs: Math.max(0, p99Ms),
        eventLoopUtilization: utilization,
        heapUsedRatio: Math.min(...heap),
      }
    },
    close() {
      for (const h of histograms) h.disable()
    },
  }
}
