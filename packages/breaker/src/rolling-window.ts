import type { FailureCounter } from './failure-counter.js'

/** Calls and failures currently inside a window. */
export interface WindowCounts {
  /** Calls recorded in the window. */
  calls: number
  /** Calls that counted as failures (slow calls included). */
  failures: number
  /** Calls that succeeded but took at least `slowCallMs`. */
  slowCalls: number
}

/**
 * Failure-rate mode: the circuit opens once the last `windowMs` hold at least `minimumCalls`
 * calls and the failed share reaches `failureRateThreshold`. Counts are kept as a ring of time
 * buckets with running totals: recording is O(1) and allocation-free, and old buckets are
 * emptied as the clock moves on, so memory is fixed whatever the call rate. Times are monotonic
 * milliseconds, so the window never runs backwards.
 */
export class RollingWindow implements FailureCounter {
  private readonly bucketMs: number
  private readonly size: number
  /** Per bucket: calls, failures, slow calls, side by side. */
  private readonly counts: Uint32Array
  private head = 0
  private headTick = -1
  private calls = 0
  private failures = 0
  private slowCalls = 0

  /**
   * @param windowMs - length of the window, in milliseconds
   * @param buckets - slices of the window; it slides one slice at a time
   * @param minimumCalls - calls needed before the rate can open the circuit
   * @param threshold - failed share that opens it
   */
  constructor(
    windowMs: number,
    buckets: number,
    private readonly minimumCalls: number,
    private readonly threshold: number,
  ) {
    this.bucketMs = windowMs / buckets
    this.size = buckets
    this.counts = new Uint32Array(buckets * 3)
  }

  success(now: number): void {
    this.record(now, false, false)
  }

  failure(now: number, slow: boolean): boolean {
    this.record(now, true, slow)
    return this.calls >= this.minimumCalls && this.failures >= this.threshold * this.calls
  }

  /** Counts of the window ending at `now`. */
  read(now: number): WindowCounts {
    this.advance(now)
    return { calls: this.calls, failures: this.failures, slowCalls: this.slowCalls }
  }

  reset(): void {
    this.counts.fill(0)
    this.calls = 0
    this.failures = 0
    this.slowCalls = 0
  }

  private record(now: number, failed: boolean, slow: boolean): void {
    this.advance(now)
    const at = this.head * 3
    const counts = this.counts
    counts[at] = (counts[at] ?? 0) + 1
    this.calls++
    if (failed) {
      counts[at + 1] = (counts[at + 1] ?? 0) + 1
      this.failures++
    }
    if (slow) {
      counts[at + 2] = (counts[at + 2] ?? 0) + 1
      this.slowCalls++
    }
  }

  private advance(now: number): void {
    const tick = Math.floor(now / this.bucketMs)
    if (this.headTick === -1) this.headTick = tick
    let steps = tick - this.headTick
    if (steps <= 0) return
    this.headTick = tick
    if (steps >= this.size) {
      this.reset()
      return
    }
    const counts = this.counts
    while (steps-- > 0) {
      this.head = this.head + 1 === this.size ? 0 : this.head + 1
      const at = this.head * 3
      this.calls -= counts[at] ?? 0
      this.failures -= counts[at + 1] ?? 0
      this.slowCalls -= counts[at + 2] ?? 0
      counts[at] = 0
      counts[at + 1] = 0
      counts[at + 2] = 0
    }
  }
}
