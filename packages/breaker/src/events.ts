import type { CircuitState } from './circuit.js'
import type { CallTimeoutError, CircuitOpenError } from './errors.js'

/** Payload of `onStateChange`. */
export interface StateChangeEvent {
  /** State before the change. */
  from: CircuitState
  /** State after the change. */
  to: CircuitState
}

/** Payload of `onSuccess`. */
export interface SuccessEvent {
  /**
   * Time from admission to settlement, in milliseconds, on the monotonic clock. Measured only
   * while a success or failure listener or a rolling window exists (the clock costs more than
   * the rest of a call); 0 for calls admitted before that.
   */
  durationMs: number
}

/** Payload of `onFailure`. */
export interface FailureEvent {
  /** The error the call failed with; `undefined` for a slow success or a bare `permit.failure()`. */
  error: unknown
  /** `error`: the call threw; `timeout`: it ran past `callTimeoutMs`; `slow`: past `slowCallMs`. */
  reason: 'error' | 'timeout' | 'slow'
  /** As in `SuccessEvent`. */
  durationMs: number
}

/** Payload of `onReject`. */
export interface RejectEvent {
  /** The error the rejected caller receives. */
  error: CircuitOpenError
}

/** Payload of `onTimeout`. */
export interface TimeoutEvent {
  /** The error the timed-out caller receives (also the reason of the call's AbortSignal). */
  error: CallTimeoutError
}
