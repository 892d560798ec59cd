/**
 * Peak EWMA of response times (Finagle's and Linkerd's): a sample above the average replaces
 * it at once, so a latency spike is seen on the next pick; lower samples pull it down with a
 * weight that depends on the time since the last one. Reading decays the value toward 0, so an
 * upstream that gets no traffic is tried again after a while instead of being avoided forever.
 */
export class PeakEwma {
  private value = 0
  private stampMs = 0
  /** Whether any sample was recorded yet. */
  measured = false
  private readonly decayMs: number

  /** @param decayMs - how long a measurement counts, in milliseconds */
  constructor(decayMs: number) {
    this.decayMs = decayMs
  }

  /** Adds one response time, in milliseconds, measured at `nowMs`. */
  observe(sampleMs: number, nowMs: number): void {
    if (sampleMs >= this.value) {
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
