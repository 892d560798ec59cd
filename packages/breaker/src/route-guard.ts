import { errorAnswer, withMethods, type HttpAnswer } from '@uptimekit/internal'
import type { CircuitBreaker } from './breaker.js'
import { isCircuitOpenError, type CircuitOpenError } from './errors.js'
import { resolveGuardOptions } from './options.js'

/**
 * What a guard needs of a breaker: a structural type, so the Fastify route option accepts a
 * `CircuitBreaker` from either loaded copy (ESM or CommonJS types) of this package.
 */
export type GuardedBreaker = Pick<CircuitBreaker, 'tryAcquire' | 'countsAsFailure'>

/** The parts of a `node:http` ServerResponse the guard watches to learn the route's outcome. */
export interface GuardedResponse {
  /** Status sent (read once the response has finished). */
  readonly statusCode: number
  /** True once the whole response was handed to the OS, false if the client left first. */
  readonly writableFinished: boolean
  /** Subscribes to the end of the response, finished or not. */
  once(event: 'close', listener: () => void): unknown
}

/**
 * The connection a request came in on (`req.socket`). Its `close` ends every response still
 * queued on it: Node never emits `close` for a response pipelined behind another on a
 * connection that died, so the response alone cannot tell that the client left.
 */
export interface GuardedConnection {
  /** True once the connection is gone. */
  readonly destroyed: boolean
  /** Subscribes to the end of the connection. */
  once(event: 'close', listener: () => void): unknown
}

/** The guard's verdict on one request. */
export type GuardEntry =
  | {
      /** The route runs; its outcome is counted when the response or its connection closes. */
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
export interface RouteGuard<TOnOpen = unknown> {
  /** The answerer for rejected requests, as given (checked to be a function). */
  readonly onOpen: TOnOpen | undefined
  /**
   * Asks `breaker` to admit one request whose response is `response`, on `connection` (give it
   * whenever the framework exposes it: without it a pipelined request whose client left may
   * hold a half-open trial slot until `callTimeoutMs`).
   */
  enter(
    breaker: GuardedBreaker,
    response: GuardedResponse,
    connection?: GuardedConnection | null,
  ): GuardEntry
}

/** The one table from this package's error codes to HTTP statuses. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze({
  UPTIMEKIT_CIRCUIT_OPEN: 503,
})

/**
 * The answer to a request the circuit rejected: 503, `Retry-After` in whole seconds (at least
 * 1, so clients never retry in a tight loop), `Cache-Control: no-store` and the house error
 * body `{ statusCode, code, error, message }`, the message naming the breaker.
 */
export function circuitOpenAnswer(error: CircuitOpenError): HttpAnswer {
  const retryAfterSeconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000))
  return errorAnswer(STATUS_BY_CODE[error.code] ?? 503, error.code, error.message, {
    'retry-after': String(retryAfterSeconds),
    'cache-control': 'no-store',
  })
}

/** Throws `InvalidOptionError` unless `value` looks like a `CircuitBreaker`. */
export function assertBreaker(value: unknown, option: string): asserts value is GuardedBreaker {
  withMethods(option, value, ['tryAcquire', 'countsAsFailure'], 'must be a CircuitBreaker')
}

const statusFails = (isFailureStatus: (statusCode: number) => boolean, statusCode: number) => {
  try {
    return Boolean(isFailureStatus(statusCode))
  } catch {
    return true
  }
}

/**
 * Builds the guard from the options of `breakerGuard()` or `breakerPlugin` (`owner`):
 * `{ isFailureStatus, onOpen }`, checked here, `onOpen` called by the adapter. A request's
 * outcome is decided when its response closes, or its connection if that goes first: a client
 * that left before the response finished counts neither way; a thrown error counts if the
 * breaker's `isFailure` says so; otherwise `isFailureStatus(statusCode)` decides.
 */
export function createRouteGuard<TOnOpen = unknown>(
  owner: 'breakerGuard' | 'breakerPlugin',
  options?: unknown,
): RouteGuard<TOnOpen> {
  const { isFailureStatus, onOpen } = resolveGuardOptions<TOnOpen>(owner, options)
  // Requests still waiting for an outcome, per connection: one `close` listener per connection
  // however many requests are pipelined on it (a listener each would trip Node's leak warning).
  const waiting = new WeakMap<GuardedConnection, Set<() => void>>()
  const watch = (connection: GuardedConnection, decide: () => void): Set<() => void> => {
    let decisions = waiting.get(connection)
    if (decisions === undefined) {
      const created = new Set<() => void>()
      waiting.set(connection, created)
      connection.once('close', () => {
        waiting.delete(connection)
        for (const pending of created) pending()
      })
      decisions = created
    }
    decisions.add(decide)
    return decisions
  }
  return {
    onOpen,
    enter(breaker, response, connection) {
      const permit = breaker.tryAcquire()
      if (isCircuitOpenError(permit)) {
        return { admitted: false, error: permit, answer: circuitOpenAnswer(permit) }
      }
      let thrown: { error: unknown } | undefined
      let decisions: Set<() => void> | undefined
      const decide = (): void => {
        decisions?.delete(decide)
        if (!response.writableFinished) permit.release()
        else if (thrown !== undefined) {
          if (breaker.countsAsFailure(thrown.error)) permit.failure(thrown.error)
          else permit.success()
        } else if (statusFails(isFailureStatus, response.statusCode)) {
          permit.failure(new Error(`route answered ${response.statusCode}`))
        } else permit.success()
      }
      response.once('close', decide)
      // A connection already gone emits no more `close`: the client left, so the route's
      // outcome counts neither way.
      if (connection?.destroyed === true) permit.release()
      else if (connection != null) decisions = watch(connection, decide)
      return {
        admitted: true,
        recordError(error) {
          thrown ??= { error }
        },
      }
    },
  }
}
