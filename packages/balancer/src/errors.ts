import {
  hasCode,
  InvalidOptionError,
  isInvalidOptionError,
  UptimekitError,
} from '@uptimekit/internal'

export { InvalidOptionError, isInvalidOptionError }

/**
 * A request no upstream could take: the list is empty, or every upstream's breaker refused it.
 * The proxy answers it with 503.
 */
export class NoUpstreamError extends UptimekitError {
  static override readonly code: string = 'UPTIMEKIT_NO_UPSTREAM'

  /** @param reason - why no upstream was chosen */
  constructor(reason: string) {
    super(NoUpstreamError.code, `no upstream can take the request: ${reason}`)
  }
}

/** A request given to a balancer after `close()` or `destroy()`. */
export class BalancerClosedError extends UptimekitError {
  static override readonly code: string = 'UPTIMEKIT_BALANCER_CLOSED'

  constructor() {
    super(BalancerClosedError.code, 'the balancer is closed')
  }
}

/** Whether `err` is a {@link NoUpstreamError} (by code, so two loaded copies agree). */
export const isNoUpstreamError = (err: unknown): err is NoUpstreamError =>
  hasCode(err, NoUpstreamError.code)

/** Whether `err` is a {@link BalancerClosedError}. */
export const isBalancerClosedError = (err: unknown): err is BalancerClosedError =>
  hasCode(err, BalancerClosedError.code)
