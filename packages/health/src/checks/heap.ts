import { getHeapStatistics } from 'node:v8'
import { ratio } from '../options.js'
import type { HealthCheck } from '../options.js'

/** Options of `heapCheck()`. */
export interface HeapCheckOptions {
  /**
   * Largest share of the V8 heap size limit (`--max-old-space-size`) the used
   * heap may take, in (0, 1].
   * @default 0.9
   */
  maxUsedRatio?: number
}

/** Defaults of `heapCheck()` options. */
export const HEAP_CHECK_DEFAULTS: { readonly maxUsedRatio: 0.9 } = Object.freeze({
  maxUsedRatio: 0.9,
})

const MB = 1024 * 1024
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`

/**
 * Checks the used JS heap against V8's heap size limit. Not against
 * `heapTotal`: V8 keeps `heapTotal` just above what is used, so
 * `heapUsed / heapTotal` is above 90 % in a healthy process most of the time.
 * Details: `{ usedBytes, limitBytes, usedRatio }`.
 */
export function heapCheck(options: HeapCheckOptions = {}): HealthCheck {
  const maxUsedRatio = ratio(
    'maxUsedRatio',
    options.maxUsedRatio ?? HEAP_CHECK_DEFAULTS.maxUsedRatio,
  )
  return () => {
    const { used_heap_size: usedBytes, heap_size_limit: limitBytes } = getHeapStatistics()
    const usedRatio = Math.round((usedBytes / limitBytes) * 1000) / 1000
    if (usedBytes > limitBytes * maxUsedRatio) {
      throw new Error(
        `heap used ${mb(usedBytes)} is ${(usedRatio * 100).toFixed(1)}% of the ${mb(limitBytes)} limit (max ${maxUsedRatio * 100}%)`,
      )
    }
    return { usedBytes, limitBytes, usedRatio }
  }
}
