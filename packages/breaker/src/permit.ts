/**
 * The right to make one call, from `tryAcquire()`. Report its outcome exactly once; later
 * reports are ignored, and so are reports for a circuit that changed state meanwhile. A
 * half-open trial permit not settled within `callTimeoutMs` counts as a failed trial by itself.
 */
export interface CircuitPermit {
  /** The call succeeded (still a failure if it took `slowCallMs` or more). */
  success(): void
  /** The call failed; counts as a failure whatever `isFailure` says (apply `countsAsFailure` first). */
  failure(error?: unknown): void
  /** The call was given up (the client left): frees a trial slot, counts neither way. */
  release(): void
}
