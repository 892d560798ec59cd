import { errorText, monotonicMs, type Logger } from '@uptimekit/internal'
import { CLOSED, type Circuit, type CircuitState } from './circuit.js'
import { ConsecutiveFailures } from './consecutive-failures.js'
import { Deadlines } from './deadlines.js'
import { CallTimeoutError, CircuitOpenError } from './errors.js'
import type {
  FailureEvent,
  RejectEvent,
  StateChangeEvent,
  SuccessEvent,
  TimeoutEvent,
} from './events.js'
import { Listeners } from './listeners.js'
import { NEVER_ABORTED_SIGNAL } from './never-aborted-signal.js'
import {
  resolveBreakerOptions,
  type CircuitBreakerOptions,
  type ResolvedBreakerOptions,
} from './options.js'
import type { CircuitPermit } from './permit.js'
import { RollingWindow } from './rolling-window.js'
import type { BreakerHealthDetails, BreakerMode, BreakerSnapshot } from './snapshot.js'
import { callWithTimeout } from './timed-call.js'

/** Admission of a call that is not counted (the breaker is disabled). */
const UNCOUNTED = -1
/** `startedAt` of a call admitted while nothing needed its duration (no clock read). */
const NO_START = -1
/** Retry-After hint when half-open trials are in flight: a trial may close the circuit any moment. */
const TRIAL_RETRY_AFTER_MS = 1000

/**
 * A circuit breaker: stops calling a failing dependency for a while, then lets a few trial
 * calls through to see whether it recovered. Every duration is measured on the monotonic
 * clock, so a wall-clock step neither holds the circuit open nor half-opens it early. No timer
 * runs while closed or open: the end of the open period is checked on the next call or read.
 *
 * @example
 * ```ts
 * const payments = new CircuitBreaker({ name: 'payments', failureThreshold: 5, callTimeoutMs: 3000 })
 * const receipt = await payments.execute((signal) => fetch(url, { signal, method: 'POST', body }))
 * ```
 */
export class CircuitBreaker {
  /** The breaker's name, as given. */
  readonly name: string
  private readonly successThreshold: number
  private readonly resetTimeoutMs: number
  private readonly callTimeoutMs: number | undefined
  /** Made on the first timed call, so an idle breaker holds none. */
  private deadlines: Deadlines | undefined
  private readonly halfOpenMaxCalls: number
  private readonly isFailure: ((error: unknown) => boolean) | undefined
  private readonly slowCallMs: number | undefined
  private readonly streak: ConsecutiveFailures
  private readonly window: RollingWindow | undefined
  private readonly backoff: ResolvedBreakerOptions['backoff']
  private readonly logger: Logger
  private circuit: Circuit = CLOSED
  private mode: BreakerMode = 'auto'
  /** Bumped on every transition, so outcomes of calls admitted under an older state are ignored. */
  private generation = 0
  private reopenCount = 0
  private clockNeeded: boolean
  private stateListeners: Listeners<StateChangeEvent> | undefined
  private successListeners: Listeners<SuccessEvent> | undefined
  private failureListeners: Listeners<FailureEvent> | undefined
  private rejectListeners: Listeners<RejectEvent> | undefined
  private timeoutListeners: Listeners<TimeoutEvent> | undefined

  /** @throws InvalidOptionError naming the first bad option. */
  constructor(options: CircuitBreakerOptions) {
    const o = resolveBreakerOptions(options)
    this.name = o.name
    this.successThreshold = o.successThreshold
    this.resetTimeoutMs = o.resetTimeoutMs
    this.callTimeoutMs = o.callTimeoutMs
    this.halfOpenMaxCalls = o.halfOpenMaxCalls
    this.isFailure = o.isFailure
    this.slowCallMs = o.window?.slowCallMs
    this.streak = new ConsecutiveFailures(o.failureThreshold)
    const w = o.window
    this.window =
      w === undefined
        ? undefined
        : new RollingWindow(w.windowMs, w.buckets, w.minimumCalls, w.failureRateThreshold)
    this.backoff = o.backoff
    this.logger = o.logger
    this.clockNeeded = w !== undefined
  }

  /** Current state. An elapsed reset timeout turns `open` into `half_open` on this read. */
  get state(): CircuitState {
    this.refresh(monotonicMs())
    return this.circuit.state
  }

  /**
   * Runs `fn` if the circuit lets it through and counts its outcome. `fn` gets an AbortSignal
   * that aborts on `callTimeoutMs` or when `signal` aborts (with `callTimeoutMs: Infinity` and
   * no `signal`, a signal that never aborts). Rejects at once with `CircuitOpenError` while
   * open, with `CallTimeoutError` past `callTimeoutMs`, with `signal.reason` if `signal` is
   * already aborted, or with `fn`'s error. An error thrown while `signal` is aborted is the
   * caller's doing and is not counted.
   */
  execute<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error)
    const generation = this.admit()
    if (typeof generation !== 'number') return Promise.reject(generation)
    const startedAt = this.clockNeeded ? monotonicMs() : NO_START
    const timeoutMs = this.callTimeoutMs
    if (timeoutMs !== undefined) {
      this.deadlines ??= new Deadlines(timeoutMs)
      return callWithTimeout(fn, this.deadlines, signal, {
        succeeded: () => this.succeeded(generation, startedAt),
        errored: (error) => this.settleError(generation, startedAt, error, signal),
        timedOut: () => this.timedOut(generation, startedAt, timeoutMs, signal),
      })
    }
    let pending: T | PromiseLike<T>
    try {
      pending = fn(signal ?? NEVER_ABORTED_SIGNAL)
    } catch (error) {
      this.settleError(generation, startedAt, error, signal)
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- fn's own error, passed on untouched
      return Promise.reject(error)
    }
    // Hand the caller fn's own promise and count its outcome on the side: an async wrapper
    // would cost a second promise and an extra tick per call. Our reactions are attached first,
    // so the breaker has counted the outcome before the caller resumes.
    const promise = Promise.resolve(pending)
    promise.then(
      () => this.succeeded(generation, startedAt),
      (error: unknown) => this.settleError(generation, startedAt, error, signal),
    )
    return promise
  }

  /**
   * Asks for the right to make one call outside `execute()` (the route guards do this): returns
   * a permit to report the outcome on, or the `CircuitOpenError` a rejected caller should get
   * (the rejection is already counted and emitted). A half-open trial permit not settled within
   * `callTimeoutMs` counts as a failed trial (an unref()ed timer), so a trial whose outcome is
   * never reported cannot hold the circuit half-open; other permits have no deadline.
   */
  tryAcquire(): CircuitPermit | CircuitOpenError {
    const generation = this.admit()
    if (typeof generation !== 'number') return generation
    const startedAt = this.clockNeeded ? monotonicMs() : NO_START
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const settle = (): boolean => {
      if (settled) return false
      settled = true
      if (timer !== undefined) clearTimeout(timer)
      return true
    }
    const timeoutMs = this.callTimeoutMs
    if (this.circuit.state === 'half_open' && timeoutMs !== undefined) {
      timer = setTimeout(() => {
        if (settle()) this.timedOut(generation, startedAt, timeoutMs, undefined)
      }, timeoutMs)
      // Bookkeeping only: the trial's own work keeps the process up if it needs to.
      timer.unref()
    }
    return {
      success: () => {
        if (settle()) this.succeeded(generation, startedAt)
      },
      failure: (error?: unknown) => {
        if (settle()) this.failed(generation, startedAt, error, 'error')
      },
      release: () => {
        if (settle()) this.released(generation)
      },
    }
  }

  /** Whether `error` counts against the dependency, per the `isFailure` option. */
  countsAsFailure(error: unknown): boolean {
    if (this.isFailure === undefined) return true
    try {
      return Boolean(this.isFailure(error))
    } catch {
      return true
    }
  }

  /** Calls `listener` on every state change; returns the unsubscribe function. */
  onStateChange(listener: (event: StateChangeEvent) => void): () => void {
    this.stateListeners ??= new Listeners((error) => this.listenerFailed(error))
    return this.stateListeners.add(listener)
  }

  /** Calls `listener` after every counted success; returns the unsubscribe function. */
  onSuccess(listener: (event: SuccessEvent) => void): () => void {
    this.successListeners ??= new Listeners((error) => this.listenerFailed(error))
    this.clockNeeded = true
    return this.successListeners.add(listener)
  }

  /** Calls `listener` after every counted failure (timeouts and slow calls included). */
  onFailure(listener: (event: FailureEvent) => void): () => void {
    this.failureListeners ??= new Listeners((error) => this.listenerFailed(error))
    this.clockNeeded = true
    return this.failureListeners.add(listener)
  }

  /** Calls `listener` for every call rejected without running; returns the unsubscribe function. */
  onReject(listener: (event: RejectEvent) => void): () => void {
    this.rejectListeners ??= new Listeners((error) => this.listenerFailed(error))
    return this.rejectListeners.add(listener)
  }

  /** Calls `listener` for every call cut off by `callTimeoutMs`, before `onFailure`. */
  onTimeout(listener: (event: TimeoutEvent) => void): () => void {
    this.timeoutListeners ??= new Listeners((error) => this.listenerFailed(error))
    return this.timeoutListeners.add(listener)
  }

  /** State, counts and next attempt time, as plain data. */
  snapshot(): BreakerSnapshot {
    const now = monotonicMs()
    this.refresh(now)
    const c = this.circuit
    const open = c.state === 'open'
    return {
      name: this.name,
      state: c.state,
      mode: this.mode,
      consecutiveFailures: this.streak.count,
      window: this.window === undefined ? null : this.window.read(now),
      halfOpen: c.state === 'half_open' ? { inFlight: c.inFlight, successes: c.successes } : null,
      openedAt: open ? c.openedAtEpoch : null,
      nextAttemptAt:
        open && c.retryAt !== Infinity
          ? Math.ceil(c.openedAtEpoch + (c.retryAt - c.openedAt))
          : null,
      reopenCount: this.reopenCount,
    }
  }

  /**
   * A check for `@uptimekit/health`: rejects with `CircuitOpenError` (naming the breaker and
   * when it retries) while open, resolves with `{ state, mode }` otherwise. Register it as
   * non-critical: an open breaker means the service degrades, not that it should be restarted.
   */
  healthCheck(): (signal: AbortSignal) => Promise<BreakerHealthDetails> {
    return () => {
      const now = monotonicMs()
      this.refresh(now)
      const c = this.circuit
      if (c.state === 'open') return Promise.reject(this.openError(c.retryAt, now))
      return Promise.resolve({ state: c.state, mode: this.mode })
    }
  }

  /** Opens the circuit and holds it open (no trials) until `forceClose()`. */
  forceOpen(): void {
    this.mode = 'forced_open'
    this.moveTo({
      state: 'open',
      openedAt: monotonicMs(),
      openedAtEpoch: Date.now(),
      retryAt: Infinity,
    })
  }

  /**
   * Closes the circuit with fresh counts and hands control back to the breaker; ends
   * `forceOpen()` and `disable()`. Outcomes of calls already in flight are ignored.
   */
  forceClose(): void {
    this.mode = 'auto'
    this.close()
  }

  /**
   * Lets every call through without counting it, so the circuit never opens, until
   * `forceClose()` or `forceOpen()`. `callTimeoutMs` still applies.
   */
  disable(): void {
    this.mode = 'disabled'
    this.close()
  }

  /** The hot path: a closed circuit admits with one comparison and no clock read. */
  private admit(): number | CircuitOpenError {
    if (this.circuit.state === 'closed') {
      return this.mode === 'disabled' ? UNCOUNTED : this.generation
    }
    const now = monotonicMs()
    this.refresh(now)
    // Re-read: refresh() may transition, and a state listener may transition again.
    const c = this.circuit as Circuit
    if (c.state === 'closed') return this.generation
    if (c.state === 'open') return this.reject(this.openError(c.retryAt, now))
    if (c.inFlight >= this.halfOpenMaxCalls) return this.reject(this.openError(0, now))
    c.inFlight++
    return this.generation
  }

  private refresh(now: number): void {
    const c = this.circuit
    if (c.state === 'open' && now >= c.retryAt) {
      this.moveTo({ state: 'half_open', inFlight: 0, successes: 0 })
    }
  }

  private openError(retryAt: number, now: number): CircuitOpenError {
    if (this.circuit.state === 'half_open') {
      return new CircuitOpenError(this.name, 'half_open', TRIAL_RETRY_AFTER_MS, false)
    }
    const held = retryAt === Infinity
    const retryAfterMs = held ? this.resetTimeoutMs : Math.max(0, Math.ceil(retryAt - now))
    return new CircuitOpenError(this.name, 'open', retryAfterMs, held)
  }

  private reject(error: CircuitOpenError): CircuitOpenError {
    this.rejectListeners?.emit({ error })
    return error
  }

  /** A call ran past `callTimeoutMs`: it fails, unless the caller had given up first. */
  private timedOut(
    generation: number,
    startedAt: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): CallTimeoutError {
    const error = new CallTimeoutError(this.name, timeoutMs)
    this.timeoutListeners?.emit({ error })
    if (signal?.aborted === true) this.released(generation)
    else this.failed(generation, startedAt, error, 'timeout')
    return error
  }

  private settleError(
    generation: number,
    startedAt: number,
    error: unknown,
    signal: AbortSignal | undefined,
  ): void {
    if (signal?.aborted === true) this.released(generation)
    else if (this.countsAsFailure(error)) this.failed(generation, startedAt, error, 'error')
    else this.succeeded(generation, startedAt)
  }

  private succeeded(generation: number, startedAt: number): void {
    if (generation !== this.generation) return
    let now = NO_START
    let durationMs = 0
    if (startedAt !== NO_START) {
      now = monotonicMs()
      durationMs = now - startedAt
      if (this.slowCallMs !== undefined && durationMs >= this.slowCallMs) {
        this.failed(generation, startedAt, undefined, 'slow')
        return
      }
    }
    this.successListeners?.emit({ durationMs })
    if (generation !== this.generation) return
    const c = this.circuit
    if (c.state === 'closed') {
      this.streak.success()
      this.window?.success(now)
    } else if (c.state === 'half_open') {
      c.inFlight--
      c.successes++
      if (c.successes >= this.successThreshold) this.close()
    }
  }

  private failed(
    generation: number,
    startedAt: number,
    error: unknown,
    reason: FailureEvent['reason'],
  ): void {
    if (generation !== this.generation) return
    const now = startedAt === NO_START && this.window === undefined ? NO_START : monotonicMs()
    const durationMs = startedAt === NO_START ? 0 : now - startedAt
    this.failureListeners?.emit({ error, reason, durationMs })
    if (generation !== this.generation) return
    const c = this.circuit
    if (c.state === 'half_open') {
      this.reopenCount++
      this.open(now === NO_START ? monotonicMs() : now)
      return
    }
    if (c.state !== 'closed') return
    // Both counters see every failure, whichever of them trips.
    const streakTrips = this.streak.failure()
    const windowTrips = this.window?.failure(now, reason === 'slow') === true
    if (streakTrips || windowTrips) this.open(now === NO_START ? monotonicMs() : now)
  }

  private released(generation: number): void {
    const c = this.circuit
    if (generation === this.generation && c.state === 'half_open') c.inFlight--
  }

  private open(now: number): void {
    const { factor, maxResetTimeoutMs, jitterRatio } = this.backoff
    const grown = Math.min(maxResetTimeoutMs, this.resetTimeoutMs * factor ** this.reopenCount)
    const retryAt = now + grown * (1 - jitterRatio * Math.random())
    this.moveTo({ state: 'open', openedAt: now, openedAtEpoch: Date.now(), retryAt })
  }

  private close(): void {
    this.reopenCount = 0
    this.streak.reset()
    this.window?.reset()
    this.moveTo(CLOSED)
  }

  private moveTo(next: Circuit): void {
    const from = this.circuit.state
    this.circuit = next
    this.generation++
    if (from === next.state) return
    const fields = { breaker: this.name, from, to: next.state, mode: this.mode }
    if (next.state === 'open') {
      const retryInMs = next.retryAt === Infinity ? null : Math.ceil(next.retryAt - next.openedAt)
      this.logger.warn({ ...fields, retryInMs }, `circuit "${this.name}" opened`)
    } else {
      this.logger.info(fields, `circuit "${this.name}" is ${next.state.replace('_', '-')}`)
    }
    this.stateListeners?.emit({ from, to: next.state })
  }

  private listenerFailed(error: unknown): void {
    this.logger.error(
      { breaker: this.name, error: errorText(error) },
      'a circuit breaker listener threw',
    )
  }
}
