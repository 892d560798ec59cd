export { CircuitBreaker } from './breaker.js'
export type { CircuitState } from './circuit.js'
export {
  CallTimeoutError,
  CircuitOpenError,
  InvalidOptionError,
  RetryError,
  isCallTimeoutError,
  isCircuitOpenError,
  isInvalidOptionError,
  isRetryError,
} from './errors.js'
export type {
  FailureEvent,
  RejectEvent,
  StateChangeEvent,
  SuccessEvent,
  TimeoutEvent,
} from './events.js'
export { DEFAULTS } from './options.js'
export type {
  CircuitBreakerOptions,
  GuardOptions,
  ReopenBackoffOptions,
  RetryOptions,
  RollingWindowOptions,
} from './options.js'
export type { CircuitPermit } from './permit.js'
export { retry } from './retry.js'
export type { WindowCounts } from './rolling-window.js'
export { assertBreaker, circuitOpenAnswer, createRouteGuard } from './route-guard.js'
export type {
  GuardEntry,
  GuardedBreaker,
  GuardedConnection,
  GuardedResponse,
  RouteGuard,
} from './route-guard.js'
export type { BreakerHealthDetails, BreakerMode, BreakerSnapshot } from './snapshot.js'
export type { ErrorBody, HttpAnswer, Logger, LoggerOption } from '@uptimekit/internal'
