import type { FailureCounter } from './failure-counter.js'

/** The default mode: `threshold` failures in a row open the circuit; any success resets the streak. */
export class ConsecutiveFailures implements FailureCounter {
  /** Failures in a row so far. */
  count = 0

  /** @param threshold - failures in a row that open the circuit (`Infinity`: never) */
  constructor(private readonly threshold: number) {}

  success(): void {
    this.count = 0
  }

  failure(): boolean {
    return ++this.count >= this.threshold
  }

  reset(): void {
    this.count = 0
  }
}
