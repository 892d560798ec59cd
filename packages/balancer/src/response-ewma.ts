/**
 * An upstream's average response time: an EWMA weighted by time (Finagle's and Linkerd's decay),
 * where a failure above the average replaces it at once (their peak), so a failing upstream is
 * expensive from its first failure. A success is averaged with weight `1 - exp(-gap / decayMs)`,
 * the gap being the time since the previous sample: a sample after a quiet spell counts almost
 * fully, one among many counts little. Successes get no peak because a stall of the client's own
 * event loop inflates every answer read after it, on every upstream at once; a peak would then
 * make the fast upstreams look as slow as the slow one for several `decayMs`. Reading decays the
 * value toward 0, so an upstream that gets no traffic is tried again after a while instead of
 * being avoided forever.
 */
export class ResponseEwma {
  private value = 0
  private stampMs = 0
  /** Whether any sample was recorded yet. */
  measured = false
  private readonly decayMs: number

  /** @param decayMs - how long a measurement counts, in milliseconds */
  constructor(decayMs: number) {
    this.decayMs = decayMs
  }

  /** Adds one response time, in milliseconds, measured at `nowMs`; `failed` for a failure. */
  observe(sampleMs: number, nowMs: number, failed: boolean): void {
    if (!this.measured || (failed && sampleMs >= this.value)) {
      this.value = sampleMs
    } else {
      const w = Math.exp(-(nowMs - this.stampMs) / this.decayMs)
      this.value = this.value * w + sampleMs * (1 - w)
    }
    this.stampMs = nowMs
    this.measured = true
  }

  /** The average at `nowMs`, decayed for the time since the last sample. */
  read(nowMs: number): number {
    const elapsed = nowMs - this.stampMs
    return elapsed <= 0 ? this.value : this.value * Math.exp(-elapsed / this.decayMs)
  }
}
