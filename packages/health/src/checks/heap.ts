import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'
import { ratio } from '../options.js'
import type { HealthCheck } from '../options.js'

/** Options of `heapCheck()`. */
export interface HeapCheckOptions {
  /**
   * Largest share of the heap limit the used old-generation heap may take, in (0, 1].
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
// Scavenged spaces empty themselves on every minor GC; only the rest grows toward the limit.
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space'])

/** `--max-old-space-size` in bytes from the command line or NODE_OPTIONS (the last one wins, as in V8). */
function maxOldSpaceBytes(): number | undefined {
  const flags = [...(process.env.NODE_OPTIONS ?? '').split(/\s+/), ...process.execArgv]
  let megabytes: number | undefined
  for (const flag of flags) {
    const match = /^--max[-_]old[-_]space[-_]size=(\d+)$/.exec(flag)
    if (match?.[1] !== undefined) megabytes = Number(match[1])
  }
  return megabytes === undefined ? undefined : megabytes * MB
}

/**
 * Checks the used heap against the heap limit, never against `heapTotal`
 * (V8 keeps `heapTotal` just above what is used, so `heapUsed / heapTotal` is
 * above 90 % in a healthy process most of the time). The limit is
 * `--max-old-space-size` when given, since V8 aborts when the old generation
 * reaches it, else `v8.getHeapStatistics().heap_size_limit`; the used part is
 * the old generation (every space but the scavenged young ones).
 * Details: `{ usedBytes, limitBytes, usedRatio, heapSizeLimitBytes }`.
 */
export function heapCheck(options: HeapCheckOptions = {}): HealthCheck {
  const maxUsedRatio = ratio(
    'maxUsedRatio',
    options.maxUsedRatio ?? HEAP_CHECK_DEFAULTS.maxUsedRatio,
  )
  const oldSpaceLimit = maxOldSpaceBytes()
  return () => {
    const heapSizeLimitBytes = getHeapStatistics().heap_size_limit
    const limitBytes = oldSpaceLimit ?? heapSizeLimitBytes
    let usedBytes = 0
    for (const space of getHeapSpaceStatistics()) {
      if (!YOUNG_SPACES.has(space.space_name)) usedBytes += space.space_used_size
    }
    const usedRatio = Math.round((usedBytes / limitBytes) * 1000) / 1000
    if (usedBytes > limitBytes * maxUsedRatio) {
      throw new Error(
        `heap used ${mb(usedBytes)} is ${((usedBytes / limitBytes) * 100).toFixed(1)}% of the ${mb(limitBytes)} limit (max ${maxUsedRatio * 100}%)`,
      )
    }
    return { usedBytes, limitBytes, usedRatio, heapSizeLimitBytes }
  }
}
