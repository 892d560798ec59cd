import type { CircuitState } from './circuit.js'
import type { WindowCounts } from './rolling-window.js'

/**
 * `auto`: the breaker opens and closes itself. `forced_open`: held open by `forceOpen()`.
 * `disabled`: every call passes uncounted, see `disable()`.
 */
export type BreakerMode = 'auto' | 'forced_open' | 'disabled'

/** A point-in-time view of a breaker, JSON-ready. */
export interface BreakerSnapshot {
  /** The breaker's name. */
  name: string
  /** Current state, after applying an elapsed reset timeout. */
  state: CircuitState
  /** Who is in control, see `BreakerMode`. */
  mode: BreakerMode
  /** Failures in a row while closed (reset by any success). */
  consecutiveFailures: number
  /** Counts of the rolling window, or `null` without one. */
  window: WindowCounts | null
  /** Trial calls in flight and succeeded, or `null` unless half-open. */
  halfOpen: { inFlight: number; successes: number } | null
  /** When the circuit opened, epoch ms (for display), or `null` unless open. */
  openedAt: number | null
  /**
   * When the next call becomes a trial, epoch ms (for display: the breaker itself counts on a
   * monotonic clock, so a wall-clock step does not move it), or `null` unless open on its own.
   */
  nextAttemptAt: number | null
  /** Times the circuit reopened in a row after failed trials; drives the reset backoff. */
  reopenCount: number
}

/** What `healthCheck()` resolves with while the circuit is not open. */
export interface BreakerHealthDetails {
  /** `closed` or `half_open`. */
  state: CircuitState
  /** See `BreakerMode`. */
  mode: BreakerMode
}
