export { CircuitBreaker } from './breaker.js'
export type {
  BreakerHealthDetails,
  BreakerMode,
  BreakerSnapshot,
  CircuitPermit,
  FailureEvent,
  RejectEvent,
  StateChangeEvent,
  SuccessEvent,
  TimeoutEvent,
} from './breaker.js'
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
export { DEFAULTS } from './options.js'
export type {
  CircuitBreakerOptions,
  GuardOptions,
  Logger,
  ReopenBackoffOptions,
  RetryOptions,
  RollingWindowOptions,
} from './options.js'
export { retry } from './retry.js'
export type { WindowCounts } from './rolling-window.js'
export { assertBreaker, circuitOpenAnswer, createRouteGuard } from './route-guard.js'
export type { GuardEntry, GuardedResponse, HttpAnswer, RouteGuard } from './route-guard.js'
