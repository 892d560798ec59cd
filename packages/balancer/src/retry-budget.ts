/**
 * Finagle's retry budget as a token bucket: every request sent deposits `ratio` of a token,
 * `minPerSecond` tokens arrive per second whatever the traffic, and a retry takes one. So
 * retries stay near `ratio` of the traffic during an outage instead of multiplying it, while a
 * quiet client can still retry. The reserve is capped at ten seconds of `minPerSecond` (at least
 * 10 tokens), so a long healthy spell cannot save up a burst.
 */
export class RetryBudget {
  private balance: number
  private stampMs: number
  private readonly ratio: number
  private readonly perMs: number
  private readonly cap: number

  constructor(ratio: number, minPerSecond: number, nowMs: number) {
    this.ratio = ratio
    this.perMs = minPerSecond / 1000
    this.cap = Math.max(10, minPerSecond * 10)
    this.balance = this.cap
    this.stampMs = nowMs
  }

  /** Counts one request sent (not a retry). */
  deposit(): void {
    this.balance = Math.min(this.cap, this.balance + this.ratio)
  }

  /** Takes a token for one retry; false when the budget is spent. */
  withdraw(nowMs: number): boolean {
    if (this.perMs > 0) {
      this.balance = Math.min(this.cap, this.balance + (nowMs - this.stampMs) * this.perMs)
    }
    this.stampMs = nowMs
    if (this.balance < 1) return false
    this.balance -= 1
    return true
  }
}
