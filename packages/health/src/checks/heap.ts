import { heapLimitBytes, heapUsedBytes, optionsObject, ratio } from '@uptimekit/internal'
import { CheckFailedError } from '../errors.js'
import type { HealthCheck } from '../options.js'
import { reading } from './reading.js'

/** Options of `heapCheck()`. */
export interface HeapCheckOptions {
  /**
   * Largest share of the heap limit the heap in use may take, in (0, 1].
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
 * Checks the heap in use against the size at which V8 ends the process, never against
 * `heapTotal` (V8 keeps `heapTotal` just above what is used, so `heapUsed / heapTotal` is above
 * 90 % in a healthy process most of the time) nor against `heap_size_limit` (which adds the
 * young generation: 256 MB on Node 24 with `--max-old-space-size=64`). The limit is the old
 * generation's (`--max-old-space-size` when given); the use counts the old generation and what
 * the young generation holds, since V8 dies when the young survivors no longer fit.
 * Details: `{ usedBytes, limitBytes, usedRatio }`; IETF reading `utilization` in percent.
 */
export function heapCheck(options: HeapCheckOptions = {}): HealthCheck {
  const given = optionsObject('heapCheck', options, ['maxUsedRatio'])
  const maxUsedRatio = ratio('maxUsedRatio', given.maxUsedRatio ?? HEAP_CHECK_DEFAULTS.maxUsedRatio)
  const check: HealthCheck = () => {
    const limitBytes = heapLimitBytes()
    const usedBytes = heapUsedBytes()
    const details = {
      usedBytes,
      limitBytes,
      usedRatio: Math.round((usedBytes / limitBytes) * 1000) / 1000,
    }
    if (usedBytes > limitBytes * maxUsedRatio) {
      const percent = ((usedBytes / limitBytes) * 100).toFixed(1)
      throw new CheckFailedError(
        `heap used ${mb(usedBytes)} is ${percent}% of the ${mb(limitBytes)} limit (max ${maxUsedRatio * 100}%)`,
        details,
      )
    }
    return details
  }
  check.componentType = 'system'
  check.observe = (details) => reading(details, 'usedRatio', 'utilization', 'percent', 100)
  return check
}
