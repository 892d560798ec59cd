import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'

// Scavenged spaces empty themselves on every minor GC; only the rest grows toward the limit.
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space'])

/**
 * Share of the V8 heap limit the old generation uses now, the reading `heapCheck` in
 * `@uptimekit/health` fails on: used bytes of every space but the young ones, over
 * `heap_size_limit`.
 */
export function heapUsedRatio(): number {
  let used = 0
  for (const space of getHeapSpaceStatistics()) {
    if (!YOUNG_SPACES.has(space.space_name)) used += space.space_used_size
  }
  return used / getHeapStatistics().heap_size_limit
}
