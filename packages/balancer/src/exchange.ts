import type { IncomingHttpHeaders } from 'node:http'
import type { Duplex } from 'node:stream'
import { monotonicMs } from '@uptimekit/internal'
import type { Dispatcher } from 'undici'
import type { InFlightNode } from './in-flight.js'
import type { PermitLike } from './options.js'
import { headerOf, withDefaultHeader } from './request-headers.js'
import type { RetryBudget } from './retry-budget.js'
import type { Upstream } from './upstream.js'

type Handler = Dispatcher.DispatchHandler
type Controller = Dispatcher.DispatchController

/** How an attempt ended, for health, the breaker and the response-time average. */
export type Outcome = 'success' | 'failure' | 'released'

/** What an exchange needs from its balancer. */
export interface ExchangeCore {
  readonly retries: number
  readonly retryStatuses: ReadonlySet<number>
  readonly failurePenaltyMs: number
  readonly budget: RetryBudget
  /** The hash key of a request, for the hash strategies. */
  keyOf(request: Exchange): string | undefined
  /**
   * Chooses an upstream not in `exclude` and takes its breaker permit into `request.permit`;
   * undefined when there is none.
   */
  choose(request: Exchange, exclude: readonly Upstream[] | undefined): Upstream | undefined
  /** Records an attempt's end on its upstream. */
  settle(upstream: Upstream, outcome: Outcome, error: unknown, nowMs: number): void
}

// RFC 9110 §9.2.2: a repeat has the same effect as one request.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/**
 * The controller the caller's handler is given: one for the whole exchange, whatever attempt
 * is running, so a retry is invisible to the caller and an abort reaches the attempt in flight.
 */
class ExchangeController implements Controller {
  aborted = false
  paused = false
  reason: Error | null = null
  attempt: Controller | undefined = undefined

  get rawHeaders(): Controller['rawHeaders'] {
    return this.attempt?.rawHeaders
  }

  get rawTrailers(): Controller['rawTrailers'] {
    return this.attempt?.rawTrailers
  }

  abort(reason: Error): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.attempt?.abort(reason)
  }

  pause(): void {
    this.paused = true
    this.attempt?.pause()
  }

  resume(): void {
    this.paused = false
    this.attempt?.resume()
  }
}

/**
 * One request through the balancer: it picks an upstream, watches the attempt's outcome, and
 * retries on another upstream when that is safe. It is the handler undici calls for every
 * attempt; the caller's handler sees one request.
 */
export class Exchange implements Handler, InFlightNode {
  readonly options: Dispatcher.DispatchOptions
  /** When the attempt in flight was sent; the exchange is a node of its upstream's in-flight list. */
  startMs = 0
  prevInFlight: InFlightNode | undefined = undefined
  nextInFlight: InFlightNode | undefined = undefined
  /** Breaker permit of the upstream chosen last, set by `ExchangeCore.choose`. */
  permit: PermitLike | undefined = undefined
  private readonly core: ExchangeCore
  private readonly sink: Handler
  private readonly controller = new ExchangeController()
  private upstream: Upstream | undefined = undefined
  private attemptPermit: PermitLike | undefined = undefined
  private next: Upstream | undefined = undefined
  private nextPermit: PermitLike | undefined = undefined
  private tried: Upstream[] | undefined = undefined
  private retriesLeft: number
  private written = false
  private sampled = false
  private status = 0
  private discarding = false
  private forwarded = false
  private sinkStarted = false
  private key: string | undefined | null = null

  constructor(core: ExchangeCore, options: Dispatcher.DispatchOptions, sink: Handler) {
    this.core = core
    this.options = options
    this.sink = sink
    this.retriesLeft = core.retries
  }

  /** The request's hash key, computed once. */
  hashKey(): string | undefined {
    if (this.key === null) this.key = this.core.keyOf(this)
    return this.key
  }

  /** Request method, for `hashKey`. */
  get method(): string {
    return this.options.method
  }

  /** Request path with query, for `hashKey`. */
  get path(): string {
    return this.options.path
  }

  /** A request header, for `hashKey`. */
  header(name: string): string | undefined {
    return headerOf(this.options.headers, name.toLowerCase())
  }

  /**
   * Sends the first attempt; false when the chosen upstream's pool asks the caller to wait
   * (undici's back-pressure signal). With no upstream, `fail` is called instead.
   */
  start(fail: () => Error): boolean {
    this.core.budget.deposit()
    const upstream = this.core.choose(this, undefined)
    if (upstream === undefined) {
      this.reject(fail())
      return true
    }
    return this.send(upstream, this.permit)
  }

  /** Ends the request with `error` before any attempt, as undici does: asynchronously. */
  reject(error: Error): void {
    queueMicrotask(() => this.sink.onResponseError?.(this.controller, error))
  }

  private send(upstream: Upstream, permit: PermitLike | undefined): boolean {
    this.upstream = upstream
    this.attemptPermit = permit
    this.written = false
    this.sampled = false
    this.status = 0
    this.controller.attempt = undefined
    upstream.picks++
    this.startMs = monotonicMs()
    upstream.inFlight.add(this)
    const headers =
      upstream.hostHeader === undefined
        ? this.options.headers
        : withDefaultHeader(this.options.headers, 'host', upstream.hostHeader)
    try {
      return upstream.pool.dispatch({ ...this.options, origin: upstream.url, headers }, this)
    } catch (error) {
      this.onResponseError(undefined, error as Error)
      return true
    }
  }

  /** Whether a failed attempt may go again, on another upstream; picks that upstream. */
  private mayRetry(afterResponse: boolean): boolean {
    if (this.retriesLeft === 0 || this.controller.aborted || this.forwarded) return false
    // A request that was never written cannot have reached the application, and its body (even
    // a stream) was not read yet. One that was is sent again only when that is safe and possible.
    if (afterResponse || this.written) {
      if (!IDEMPOTENT.has(this.options.method.toUpperCase())) return false
      const body = this.options.body
      const replayable =
        body === undefined ||
        body === null ||
        typeof body === 'string' ||
        body instanceof Uint8Array
      if (!replayable) return false
    }
    const current = this.upstream!
    this.tried = this.tried === undefined ? [current] : [...this.tried, current]
    const next = this.core.choose(this, this.tried)
    if (next === undefined) return false
    if (!this.core.budget.withdraw(monotonicMs())) {
      this.permit?.release()
      return false
    }
    this.next = next
    this.nextPermit = this.permit
    return true
  }

  private retry(): void {
    const next = this.next!
    const permit = this.nextPermit
    this.next = undefined
    this.nextPermit = undefined
    this.retriesLeft--
    this.send(next, permit)
  }

  private finish(outcome: Outcome, error: unknown): void {
    const upstream = this.upstream!
    const now = monotonicMs()
    upstream.inFlight.remove(this)
    if (outcome === 'failure' && !this.sampled) {
      upstream.ewma.observe(Math.max(now - this.startMs, this.core.failurePenaltyMs), now, true)
    }
    this.core.settle(upstream, outcome, error, now)
    const permit = this.attemptPermit
    this.attemptPermit = undefined
    if (permit === undefined) return
    if (outcome === 'success') permit.success()
    else if (outcome === 'failure') permit.failure(error)
    else permit.release()
  }

  onRequestStart(controller: Controller, context: unknown): void {
    this.controller.attempt = controller
    this.written = true
    if (this.controller.aborted) {
      controller.abort(this.controller.reason!)
      return
    }
    if (this.sinkStarted) return
    this.sinkStarted = true
    this.sink.onRequestStart?.(this.controller, context)
  }

  onResponseStarted(): void {
    ;(this.sink as { onResponseStarted?: () => void }).onResponseStarted?.()
  }

  onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.controller.attempt = controller
    this.forwarded = true
    this.finish('success', undefined)
    this.sink.onRequestUpgrade?.(this.controller, statusCode, headers, socket)
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.controller.attempt = controller
    const now = monotonicMs()
    const elapsed = now - this.startMs
    this.status = statusCode
    this.sampled = true
    // A fast 5xx must not look like a fast upstream.
    const failed = statusCode >= 500
    this.upstream!.ewma.observe(
      failed ? Math.max(elapsed, this.core.failurePenaltyMs) : elapsed,
      now,
      failed,
    )
    if (this.core.retryStatuses.has(statusCode) && this.mayRetry(true)) {
      // Read the body to its end, so the connection stays open, then retry.
      this.discarding = true
      return
    }
    this.forwarded = true
    if (this.controller.paused) controller.pause()
    this.sink.onResponseStart?.(this.controller, statusCode, headers, statusMessage)
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    if (!this.discarding) this.sink.onResponseData?.(this.controller, chunk)
  }

  onResponseEnd(_controller: Controller, trailers: IncomingHttpHeaders): void {
    this.finish(this.status >= 500 ? 'failure' : 'success', undefined)
    if (this.discarding) {
      this.discarding = false
      if (this.controller.aborted) {
        this.nextPermit?.release()
        this.sink.onResponseError?.(this.controller, this.controller.reason!)
        return
      }
      this.retry()
      return
    }
    this.sink.onResponseEnd?.(this.controller, trailers)
  }

  onResponseError(_controller: Controller | undefined, error: Error): void {
    const aborted = this.controller.aborted
    this.finish(aborted ? 'released' : 'failure', error)
    if (this.discarding) {
      // The 5xx being read for a retry broke off: the retry was decided already.
      this.discarding = false
      if (!aborted) {
        this.retry()
        return
      }
      this.nextPermit?.release()
    } else if (!aborted && this.mayRetry(false)) {
      this.retry()
      return
    }
    this.sink.onResponseError?.(this.controller, error)
  }
}
