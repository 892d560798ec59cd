import { getHeapStatistics } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { heapFlags, heapLimitBytes, heapUsedBytes, oldGenerationLimit } from '../src/heap-limit.js'

const MB = 1024 * 1024

describe('heapFlags', () => {
  it('reads both spellings and both forms, NODE_OPTIONS first and the command line last', () => {
    expect(heapFlags(['--max-old-space-size=64'], '')).toEqual({ maxOldSpaceMb: 64 })
    expect(heapFlags(['--max_old_space_size', '128'], '')).toEqual({ maxOldSpaceMb: 128 })
    expect(heapFlags(['--max-old-space-size=64'], '--max-old-space-size=512')).toEqual({
      maxOldSpaceMb: 64,
    })
    expect(heapFlags([], '"--max-semi-space-size=16" --inspect')).toEqual({ maxSemiSpaceMb: 16 })
    expect(heapFlags(['--max-old-space-size=abc', '--max-old-space-size='], '')).toEqual({})
  })
})

// heap_size_limit as each Node line reports it, measured with each flag set.
describe.each([
  ['Node 20', '11.3.244.8-node.38', { none: 4144, old64: 112, semi16: 4144, old64semi8: 88 }],
  ['Node 22', '12.4.254.21-node.33', { none: 4144, old64: 112, semi16: 4144, old64semi8: 88 }],
  ['Node 24', '13.6.233.17-node.53', { none: 4288, old64: 256, semi16: 4144, old64semi8: 88 }],
  ['Node 26', '14.6.202.34-node.34', { none: 4192, old64: 160, semi16: 4144, old64semi8: 88 }],
] as const)('oldGenerationLimit on %s', (_line, v8, limits) => {
  it('is --max-old-space-size when it is set, whatever the young generation adds', () => {
    expect(oldGenerationLimit(limits.old64 * MB, v8, { maxOldSpaceMb: 64 })).toBe(64 * MB)
    expect(
      oldGenerationLimit(limits.old64semi8 * MB, v8, { maxOldSpaceMb: 64, maxSemiSpaceMb: 8 }),
    ).toBe(64 * MB)
  })

  it('takes the young generation off heap_size_limit without flags or with only a semi-space size', () => {
    expect(oldGenerationLimit(limits.none * MB, v8, {})).toBe(4096 * MB)
    expect(oldGenerationLimit(limits.semi16 * MB, v8, { maxSemiSpaceMb: 16 })).toBe(4096 * MB)
  })

  it('never takes more than a small share off a heap sized from a small memory', () => {
    const limit = oldGenerationLimit(268 * MB, v8, {})
    expect(limit).toBeGreaterThanOrEqual(250 * MB)
    expect(limit).toBeLessThanOrEqual(268 * MB)
  })
})

describe('heapLimitBytes and heapUsedBytes in this process', () => {
  it('gives a limit below heap_size_limit by at most the young generation, and the heap in use', () => {
    const heapSizeLimit = getHeapStatistics().heap_size_limit
    expect(heapLimitBytes()).toBeLessThanOrEqual(heapSizeLimit)
    expect(heapLimitBytes()).toBeGreaterThanOrEqual(heapSizeLimit - 192 * MB)
    expect(heapUsedBytes()).toBeGreaterThan(0)
    expect(heapUsedBytes()).toBeLessThan(heapSizeLimit)
  })
})
