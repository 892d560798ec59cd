import { writeAnswer } from '@uptimekit/internal'
import type { Request, RequestHandler, Response } from 'express'
import type { CircuitBreaker } from './breaker.js'
import type { CircuitOpenError } from './errors.js'
import type { GuardOptions } from './options.js'
import { assertBreaker, createRouteGuard } from './route-guard.js'

/** Options of `breakerGuard()`. */
export interface BreakerGuardOptions extends GuardOptions {
  /**
   * Answers a request the circuit rejected instead of the default 503 (e.g. queue the work and
   * answer 202). It must send a response; a throw or rejection goes to `next(err)`.
   * @default undefined (answer 503 with Retry-After)
   */
  onOpen?: (req: Request, res: Response, error: CircuitOpenError) => unknown
}

type OnOpen = NonNullable<BreakerGuardOptions['onOpen']>

/**
 * Per-route Express middleware that runs the route inside `breaker`'s accounting. While the
 * circuit is open it answers 503 with `Retry-After` and the house error body (or calls
 * `onOpen`). Otherwise the route runs and its response decides: 5xx (see `isFailureStatus`) is
 * a failure, anything else a success, a client that disconnects first counts neither way. A
 * thrown error reaches Express's error middleware, not the guard, so the status sent for it
 * decides; the breaker's `isFailure` is not consulted here.
 *
 * @throws InvalidOptionError on a bad breaker or option.
 * @example
 * ```ts
 * app.post('/pay', breakerGuard(payments), payHandler)
 * app.post('/orders', breakerGuard(payments, { onOpen: (req, res) => queue(req, res) }), orderHandler)
 * ```
 */
export function breakerGuard(
  breaker: CircuitBreaker,
  options?: BreakerGuardOptions,
): RequestHandler {
  assertBreaker(breaker, 'breaker')
  const guard = createRouteGuard<OnOpen>('breakerGuard', options)
  const { onOpen } = guard
  return (req, res, next) => {
    const entry = guard.enter(breaker, res, req.socket)
    if (entry.admitted) return next()
    if (onOpen === undefined) return writeAnswer(res, entry.answer)
    new Promise((resolve) => resolve(onOpen(req, res, entry.error))).catch(next)
  }
}
