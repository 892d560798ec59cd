import { heapLimitBytes, heapUsedBytes } from '@uptimekit/internal'

/**
 * Reads the share of the V8 heap limit in use, as `heapCheck` in `@uptimekit/health` does: the
 * heap that counts against the limit V8 ends the process at, over that limit. The limit is read
 * once (it is fixed for the life of the process).
 */
export function heapUsage(): () => number {
  const limit = heapLimitBytes()
  return () => heapUsedBytes() / limit
}
