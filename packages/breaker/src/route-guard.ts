import type { CircuitBreaker } from './breaker.js'
import { InvalidOptionError, isCircuitOpenError, type CircuitOpenError } from './errors.js'
import { resolveGuardOptions } from './options.js'

/** A framework-neutral HTTP answer; adapters write it as is. */
export interface HttpAnswer {
  /** Status code to send. */
  statusCode: number
  /** Header names in lower case, values ready to send. */
  headers: Record<string, string>
  /** Serialized body, matching the `content-type` header. */
  body: string
}

/** The parts of a `node:http` ServerResponse the guard watches to learn the route's outcome. */
export interface GuardedResponse {
  /** Status sent (read once the response has finished). */
  readonly statusCode: number
  /** True once the whole response was handed to the OS, false if the client left first. */
  readonly writableFinished: boolean
  /** Subscribes to the end of the response, finished or not. */
  once(event: 'close', listener: () => void): unknown
}

/** The guard's verdict on one request. */
export type GuardEntry =
  | {
      /** The route runs; its outcome is counted when the response closes. */
      readonly admitted: true
      /** Reports an error the route threw; `isFailure` then decides instead of the status. */
      recordError(error: unknown): void
    }
  | {
      /** The circuit rejected the request; send `answer` or let `onOpen` answer. */
      readonly admitted: false
      /** The rejection, with `retryAfterMs` and the breaker's name. */
      readonly error: CircuitOpenError
      /** The 503 to send when there is no `onOpen`. */
      readonly answer: HttpAnswer
    }

/** The route-guard logic both adapters share; build your own adapter on it. */
export interface RouteGuard {
  /** Asks `breaker` to admit one request whose response is `response`. */
  enter(breaker: CircuitBreaker, response: GuardedResponse): GuardEntry
}

/** The one table from this package's error codes to HTTP statuses. */
const STATUS_BY_CODE = { UPTIMEKIT_CIRCUIT_OPEN: 503 } as const

/**
 * The answer to a request the circuit rejected: 503, `Retry-After` in whole seconds (at least
 * 1, so clients never retry in a tight loop) and a JSON body naming the breaker.
 */
export function circuitOpenAnswer(error: CircuitOpenError): HttpAnswer {
  const retryAfterSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000))
  return {
    statusCode: STATUS_BY_CODE[error.code],
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'retry-after': String(retryAfterSeconds),
      'cache-control': 'no-store',
    },
    body: JSON.stringify({
      error: 'Service Unavailable',
      code: error.code,
      message: error.message,
      breaker: error.breaker,
      retryAfterSeconds,
    }),
  }
}

/** Throws `InvalidOptionError` unless `value` looks like a `CircuitBreaker`. */
export function assertBreaker(value: unknown, option: string): asserts value is CircuitBreaker {
  const shaped =
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { tryAcquire?: unknown }).tryAcquire === 'function' &&
    typeof (value as { countsAsFailure?: unknown }).countsAsFailure === 'function'
  if (!shaped) {
    throw new InvalidOptionError(
      option,
      'must be a CircuitBreaker',
      value === null ? 'null' : typeof value,
    )
  }
}

/**
 * Builds the guard from `{ isFailureStatus, onOpen }` (checked here, called by the adapter).
 * A request's outcome is decided when its response closes: a client that left before the
 * response finished counts neither way; a thrown error counts if the breaker's `isFailure` says
 * so; otherwise `isFailureStatus(statusCode)` decides.
 */
export function createRouteGuard(options?: unknown): RouteGuard {
  const isFailureStatus = resolveGuardOptions(options)
  return {
    enter(breaker, response) {
      const permit = breaker.tryAcquire()
      if (isCircuitOpenError(permit)) {
        return { admitted: false, error: permit, answer: circuitOpenAnswer(permit) }
      }
      let thrown: { error: unknown } | undefined
      response.once('close', () => {
        if (!response.writableFinished) permit.release()
        else if (thrown !== undefined) {
          if (breaker.countsAsFailure(thrown.error)) permit.failure(thrown.error)
          else permit.success()
        } else if (statusFails(isFailureStatus, response.statusCode)) {
          permit.failure(new Error(`route answered ${response.statusCode}`))
        } else permit.success()
      })
      return {
        admitted: true,
        recordError(error) {
          thrown ??= { error }
        },
      }
    },
  }
}

const statusFails = (isFailureStatus: (statusCode: number) => boolean, statusCode: number) => {
  try {
    return isFailureStatus(statusCode)
  } catch {
    return true
  }
}
