/**
 * How a closed circuit decides to open. Each mode counts settled calls its own way; the breaker
 * feeds every counter it has and opens when any of them says so.
 */
export interface FailureCounter {
  /** A call succeeded at `now` (monotonic milliseconds). */
  success(now: number): void
  /**
   * A call failed at `now` (`slow`: it succeeded but took `slowCallMs` or more).
   * @returns true when the circuit should open
   */
  failure(now: number, slow: boolean): boolean
  /** Forgets every call, when the circuit closes again. */
  reset(): void
}
