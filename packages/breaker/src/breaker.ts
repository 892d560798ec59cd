import { CLOSED, type Circuit, type CircuitState, type HalfOpenCircuit } from './circuit.js'
import { CallTimeoutError, CircuitOpenError } from './errors.js'
import { Listeners } from './listeners.js'
import { NEVER_ABORTED_SIGNAL } from './never-aborted-signal.js'
import {
  resolveBreakerOptions,
  type CircuitBreakerOptions,
  type Logger,
  type ResolvedBreakerOptions,
} from './options.js'
import { RollingWindow, type WindowCounts } from './rolling-window.js'

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
   * Time from admission to settlement, in milliseconds. Measured only while a success or
   * failure listener or a rolling window exists (the clock costs more than the rest of a call);
   * 0 for calls admitted before that.
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

/**
 * `auto`: the breaker opens and closes itself. `forced_open`: held open by `forceOpen()`.
 * `disabled`: every call passes uncounted, see `disable()`.
 */
export type BreakerMode = 'auto' | 'forced_open' | 'disabled'

/** A point-in-time view of a breaker, JSON-ready. */
export interface BreakerSnapshot {
  /** The breaker's name. */
  name: string
  /** Current state, after applying an elapsed reset timeout. */
  state: CircuitState
  /** Who is in control, see `BreakerMode`. */
  mode: BreakerMode
  /** Failures in a row while closed (reset by any success). */
  consecutiveFailures: number
  /** Counts of the rolling window, or `null` without one. */
  window: WindowCounts | null
  /** Trial calls in flight and succeeded, or `null` unless half-open. */
  halfOpen: { inFlight: number; successes: number } | null
  /** When the circuit opened, epoch ms, or `null` unless open. */
  openedAt: number | null
  /** When the next call becomes a trial, epoch ms, or `null` unless open on its own. */
  nextAttemptAt: number | null
  /** Times the circuit reopened in a row after failed trials; drives the reset backoff. */
  reopenCount: number
}

/** What `healthCheck()` resolves with while the circuit is not open. */
export interface BreakerHealthDetails {
  /** `closed` or `half_open`. */
  state: CircuitState
  /** See `BreakerMode`. */
  mode: BreakerMode
}

/**
 * The right to make one call, from `tryAcquire()`. Report its outcome exactly once; later
 * reports are ignored, and so are reports for a circuit that changed state meanwhile.
 */
export interface CircuitPermit {
  /** The call succeeded (still a failure if it took `slowCallMs` or more). */
  success(): void
  /** The call failed; counts as a failure whatever `isFailure` says (apply `countsAsFailure` first). */
  failure(error?: unknown): void
  /** The call was given up (the client left): frees a trial slot, counts neither way. */
  release(): void
}

/** Admission of a call that is not counted (the breaker is disabled). */
const UNCOUNTED = -1
/** Retry-After hint when half-open trials are in flight: a trial may close the circuit any moment. */
const TRIAL_RETRY_AFTER_MS = 1000

/**
 * A circuit breaker: stops calling a failing dependency for a while, then lets a few trial
 * calls through to see whether it recovered. No timer runs while closed or open: the end of
 * the open period is checked against the clock on the next call or read.
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
  private readonly failureThreshold: number
  private readonly successThreshold: number
  private readonly resetTimeoutMs: number
  private readonly callTimeoutMs: number | undefined
  private readonly halfOpenMaxCalls: number
  private readonly isFailure: ((error: unknown) => boolean) | undefined
  private readonly windowOptions: ResolvedBreakerOptions['window']
  private readonly window: RollingWindow | undefined
  private readonly backoff: ResolvedBreakerOptions['backoff']
  private readonly logger: Logger | undefined
  private circuit: Circuit = CLOSED
  private mode: BreakerMode = 'auto'
  /** Bumped on every transition, so outcomes of calls admitted under an older state are ignored. */
  private generation = 0
  private consecutiveFailures = 0
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
    this.failureThreshold = o.failureThreshold
    this.successThreshold = o.successThreshold
    this.resetTimeoutMs = o.resetTimeoutMs
    this.callTimeoutMs = o.callTimeoutMs
    this.halfOpenMaxCalls = o.halfOpenMaxCalls
    this.isFailure = o.isFailure
    this.windowOptions = o.window
    this.window = o.windowEnabled
      ? new RollingWindow(o.window.windowMs, o.window.buckets)
      : undefined
    this.backoff = o.backoff
    this.logger = o.logger
    this.clockNeeded = o.windowEnabled
  }

  /** Current state. An elapsed reset timeout turns `open` into `half_open` on this read. */
  get state(): CircuitState {
    this.refresh()
    return this.circuit.state
  }

  /**
   * Runs `fn` if the circuit lets it through and counts its outcome. `fn` gets an AbortSignal
   * that aborts on `callTimeoutMs` or when `signal` aborts (without either, a signal that never
   * aborts). Rejects at once with `CircuitOpenError` while open, with `CallTimeoutError` past
   * `callTimeoutMs`, with `signal.reason` if `signal` is already aborted, or with `fn`'s error.
   * An error thrown while `signal` is aborted is the caller's doing and is not counted.
   */
  execute<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error)
    const generation = this.admit()
    if (typeof generation !== 'number') return Promise.reject(generation)
    const startedAt = this.clockNeeded ? Date.now() : -1
    if (this.callTimeoutMs !== undefined) {
      return this.executeTimed(fn, generation, startedAt, this.callTimeoutMs, signal)
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
   * (the rejection is already counted and emitted). `callTimeoutMs` does not apply to permits.
   */
  tryAcquire(): CircuitPermit | CircuitOpenError {
    const generation = this.admit()
    if (typeof generation !== 'number') return generation
    const startedAt = this.clockNeeded ? Date.now() : -1
    let settled = false
    return {
      success: () => {
        if (settled) return
        settled = true
        this.succeeded(generation, startedAt)
      },
      failure: (error?: unknown) => {
        if (settled) return
        settled = true
        this.failed(generation, startedAt, error, 'error')
      },
      release: () => {
        if (settled) return
        settled = true
        this.released(generation)
      },
    }
  }

  /** Whether `error` counts against the dependency, per the `isFailure` option. */
  countsAsFailure(error: unknown): boolean {
    if (this.isFailure === undefined) return true
    try {
      return this.isFailure(error)
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
    this.refresh()
    const c = this.circuit
    return {
      name: this.name,
      state: c.state,
      mode: this.mode,
      consecutiveFailures: this.consecutiveFailures,
      window: this.window === undefined ? null : this.window.read(Date.now()),
      halfOpen: c.state === 'half_open' ? { inFlight: c.inFlight, successes: c.successes } : null,
      openedAt: c.state === 'open' ? c.openedAt : null,
      nextAttemptAt: c.state === 'open' && c.retryAt !== Infinity ? Math.ceil(c.retryAt) : null,
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
      this.refresh()
      const c = this.circuit
      if (c.state === 'open') return Promise.reject(this.openError(c.retryAt, Date.now()))
      return Promise.resolve({ state: c.state, mode: this.mode })
    }
  }

  /** Opens the circuit and holds it open (no trials) until `forceClose()`. */
  forceOpen(): void {
    this.mode = 'forced_open'
    this.moveTo({ state: 'open', openedAt: Date.now(), retryAt: Infinity })
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
    const now = Date.now()
    this.refresh(now)
    // Re-read: refresh() may transition, and a state listener may transition again.
    const c = this.circuit as Circuit
    if (c.state === 'closed') return this.generation
    if (c.state === 'open') return this.reject(this.openError(c.retryAt, now))
    if (c.inFlight >= this.halfOpenMaxCalls) return this.reject(this.openError(0, now))
    c.inFlight++
    return this.generation
  }

  private refresh(now: number = Date.now()): void {
    const c = this.circuit
    if (c.state === 'open' && now >= c.retryAt) {
      const halfOpen: HalfOpenCircuit = { state: 'half_open', inFlight: 0, successes: 0 }
      this.moveTo(halfOpen)
    }
  }

  private openError(retryAt: number, now: number): CircuitOpenError {
    const c = this.circuit
    if (c.state === 'half_open') {
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

  private executeTimed<T>(
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    generation: number,
    startedAt: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const controller = new AbortController()
    const forwardAbort = (): void => controller.abort(signal?.reason)
    signal?.addEventListener('abort', forwardAbort, { once: true })
    let timer: ReturnType<typeof setTimeout> | undefined
    let done = false
    const finish = (): boolean => {
      if (done) return false
      done = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', forwardAbort)
      return true
    }
    const timeout = new Promise<never>((_, reject) => {
      // Not unref()ed: a pending call must still time out when nothing else keeps the process up.
      timer = setTimeout(() => {
        if (!finish()) return
        const error = new CallTimeoutError(this.name, timeoutMs)
        controller.abort(error)
        this.timeoutListeners?.emit({ error })
        if (signal?.aborted === true) this.released(generation)
        else this.failed(generation, startedAt, error, 'timeout')
        reject(error)
      }, timeoutMs)
    })
    const call = new Promise<T>((resolve) => resolve(fn(controller.signal))).then(
      (value) => {
        if (finish()) this.succeeded(generation, startedAt)
        return value
      },
      (error: unknown) => {
        if (finish()) this.settleError(generation, startedAt, error, signal)
        throw error
      },
    )
    // Once the timeout wins, the call's late outcome is dropped; race() keeps it from going unhandled.
    return Promise.race([call, timeout])
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
    let now = 0
    let durationMs = 0
    if (startedAt !== -1) {
      now = Date.now()
      durationMs = now - startedAt
      const slowCallMs = this.windowOptions.slowCallMs
      if (slowCallMs !== undefined && durationMs >= slowCallMs) {
        this.failed(generation, startedAt, undefined, 'slow')
        return
      }
    }
    this.successListeners?.emit({ durationMs })
    if (generation !== this.generation) return
    const c = this.circuit
    if (c.state === 'closed') {
      this.consecutiveFailures = 0
      this.window?.record(now, false, false)
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
    const now = startedAt === -1 && this.window === undefined ? 0 : Date.now()
    const durationMs = startedAt === -1 ? 0 : now - startedAt
    this.failureListeners?.emit({ error, reason, durationMs })
    if (generation !== this.generation) return
    const c = this.circuit
    if (c.state === 'half_open') {
      this.reopenCount++
      this.open(now === 0 ? Date.now() : now)
      return
    }
    if (c.state !== 'closed') return
    this.consecutiveFailures++
    const w = this.windowOptions
    this.window?.record(now, true, reason === 'slow')
    if (
      this.consecutiveFailures >= this.failureThreshold ||
      this.window?.exceeds(now, w.minimumCalls, w.failureRateThreshold) === true
    ) {
      this.open(now === 0 ? Date.now() : now)
    }
  }

  private released(generation: number): void {
    const c = this.circuit
    if (generation === this.generation && c.state === 'half_open') c.inFlight--
  }

  private open(now: number): void {
    const { factor, maxResetTimeoutMs, jitterRatio } = this.backoff
    const grown = Math.min(maxResetTimeoutMs, this.resetTimeoutMs * factor ** this.reopenCount)
    const retryAt = now + grown * (1 - jitterRatio * Math.random())
    this.moveTo({ state: 'open', openedAt: now, retryAt })
  }

  private close(): void {
    this.consecutiveFailures = 0
    this.reopenCount = 0
    this.window?.clear()
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
      this.logger?.warn({ ...fields, retryInMs }, `circuit "${this.name}" opened`)
    } else {
      this.logger?.info(fields, `circuit "${this.name}" is ${next.state.replace('_', '-')}`)
    }
    this.stateListeners?.emit({ from, to: next.state })
  }

  private listenerFailed(error: unknown): void {
    this.logger?.error({ breaker: this.name, err: error }, 'a circuit breaker listener threw')
  }
}
