import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8'

const MB = 1024 * 1024

// The largest semi-space V8 picks by itself, by V8 major (the young generation is three of them:
// two semi-spaces and a new large-object space of the same size). Measured as
// `heap_size_limit - max old generation` and as a worker's `maxYoungGenerationSizeMb`:
// Node 20 and 22 (V8 11, 12) 48 MB, Node 24 (V8 13) 192 MB, Node 26 (V8 14) 96 MB.
function defaultMaxSemiSpaceMb(v8Major: number): number {
  if (v8Major >= 14) return 32
  if (v8Major === 13) return 64
  return 16
}

// Sized from physical memory, V8 gives the young generation at most about 1/64 of the old
// generation per semi-space, so for small heaps the cap above would be too large.
const YOUNG_SHARE_OF_HEAP = 3 / 67

/** The V8 flags that size the heap, in megabytes, as the process was started with them. */
export interface HeapFlags {
  /** `--max-old-space-size`. */
  readonly maxOldSpaceMb?: number | undefined
  /** `--max-semi-space-size`. */
  readonly maxSemiSpaceMb?: number | undefined
}

/**
 * Reads `--max-old-space-size` and `--max-semi-space-size` (either spelling, `=value` or a
 * separate value) from NODE_OPTIONS and then the command line, the last one winning as in V8.
 */
export function heapFlags(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): HeapFlags {
  const args = [
    ...nodeOptions.split(/\s+/).map((arg) => arg.replace(/^["']|["']$/g, '')),
    ...execArgv,
  ]
  const found: { maxOldSpaceMb?: number; maxSemiSpaceMb?: number } = {}
  for (let i = 0; i < args.length; i++) {
    const match = /^--max[-_](old|semi)[-_]space[-_]size(?:=(.*))?$/.exec(args[i] ?? '')
    if (match === null) continue
    const raw = match[2] ?? args[i + 1]
    const megabytes = Number(raw)
    if (raw === undefined || raw === '' || !Number.isFinite(megabytes) || megabytes <= 0) continue
    found[match[1] === 'old' ? 'maxOldSpaceMb' : 'maxSemiSpaceMb'] = megabytes
  }
  return found
}

/**
 * The largest size of the old generation in bytes, worked out from `heap_size_limit` (old plus
 * young generation), the V8 version and the heap flags.
 */
export function oldGenerationLimit(
  heapSizeLimitBytes: number,
  v8Version: string,
  flags: HeapFlags,
): number {
  if (flags.maxOldSpaceMb !== undefined) {
    return Math.min(Math.floor(flags.maxOldSpaceMb * MB), heapSizeLimitBytes)
  }
  const youngBytes =
    flags.maxSemiSpaceMb !== undefined
      ? 3 * flags.maxSemiSpaceMb * MB
      : Math.min(
          3 * defaultMaxSemiSpaceMb(Number.parseInt(v8Version, 10)) * MB,
          heapSizeLimitBytes * YOUNG_SHARE_OF_HEAP,
        )
  return Math.max(0, Math.floor(heapSizeLimitBytes - youngBytes))
}

/**
 * The heap size at which V8 ends the process with "JavaScript heap out of memory", in bytes:
 * the old generation's limit, not `v8.getHeapStatistics().heap_size_limit`. `heap_size_limit`
 * adds the young generation, which Node 24 sizes at up to 192 MB whatever
 * `--max-old-space-size` says: with `--max-old-space-size=64` it is 256 MB on Node 24, 160 MB on
 * Node 26 and 112 MB on Node 20 and 22, while the process dies near 64 MB on all four.
 */
export function heapLimitBytes(): number {
  return oldGenerationLimit(getHeapStatistics().heap_size_limit, process.versions.v8, heapFlags())
}

/**
 * The heap in use that counts against {@link heapLimitBytes}, in bytes: the old generation plus
 * what the young generation holds, because V8 must find room in the old generation for every
 * young object that survives a scavenge, and gives up when it cannot. Counting the old
 * generation alone, a process with `--max-old-space-size=64` died with as little as 51 % of
 * the limit used (Node 24, arrays of 80 kB); counted this way, every allocation pattern we tried
 * passed 90 % before the end, on Node 20, 22, 24 and 26.
 */
export function heapUsedBytes(): number {
  let used = 0
  for (const space of getHeapSpaceStatistics()) used += space.space_used_size
  return used
}
