/** The circuit states, spelled as they appear in logs, JSON and metrics labels. */
export type CircuitState = 'closed' | 'open' | 'half_open'

/** Normal operation: calls pass and are counted. Counters live on the breaker, so one object serves all. */
export interface ClosedCircuit {
  readonly state: 'closed'
}

/** Calls are rejected until `retryAt` (`Infinity` while held by `forceOpen()`). */
export interface OpenCircuit {
  readonly state: 'open'
  /** When the circuit opened, monotonic ms. */
  readonly openedAt: number
  /** When the circuit opened, epoch ms: for display only, never for a duration. */
  readonly openedAtEpoch: number
  /** When the next call becomes a half-open trial, monotonic ms. */
  readonly retryAt: number
}

/** Trial calls probe the dependency; their outcome closes or reopens the circuit. */
export interface HalfOpenCircuit {
  readonly state: 'half_open'
  /** Trial calls admitted and not yet settled. */
  inFlight: number
  /** Trial calls that succeeded since the circuit became half-open. */
  successes: number
}

/** The breaker's state with exactly the data that state needs. */
export type Circuit = ClosedCircuit | OpenCircuit | HalfOpenCircuit

/** The closed state carries no data, so every breaker shares this frozen value. */
export const CLOSED: ClosedCircuit = Object.freeze({ state: 'closed' })
