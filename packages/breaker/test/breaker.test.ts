import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import type { CircuitBreakerOptions } from '../src/options.js'
import { isCallTimeoutError, isCircuitOpenError, type CircuitOpenError } from '../src/errors.js'

const T0 = Date.UTC(2030, 0, 1)
/** Moves the fake clocks (wall and monotonic) forward to `ms` after T0, firing due timers. */
const at = (ms: number): void => {
  vi.advanceTimersByTime(T0 + ms - Date.now())
}
const boom = (): Promise<never> => Promise.reject(new Error('boom'))
const ok = (): Promise<string> => Promise.resolve('ok')
/** A call that honours its signal: it rejects with the abort reason, and only then. */
const untilAborted = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error))
  })

function breaker(options: Partial<CircuitBreakerOptions> = {}): CircuitBreaker {
  return new CircuitBreaker({ name: 'payments', resetTimeoutMs: 10_000, logger: false, ...options })
}

async function failTimes(b: CircuitBreaker, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await expect(b.execute(boom)).rejects.toThrow('boom')
}

function rejection(promise: Promise<unknown>): Promise<CircuitOpenError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => {
      if (!isCircuitOpenError(error)) throw error
      return error
    },
  )
}

beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(T0)
  // No jitter unless a test asks: the open period is then exactly the computed timeout.
  vi.spyOn(Math, 'random').mockReturnValue(0)
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('closed → open', () => {
  it('opens at the failure threshold and not before', async () => {
    const b = breaker({ failureThreshold: 3 })
    const changes: unknown[] = []
    b.onStateChange((change) => changes.push(change))
    await failTimes(b, 2)
    expect(b.state).toBe('closed')
    await failTimes(b, 1)
    expect(b.state).toBe('open')
    expect(changes).toEqual([{ from: 'closed', to: 'open' }])
  })

  it('resets the consecutive count on a success', async () => {
    const b = breaker({ failureThreshold: 3 })
    await failTimes(b, 2)
    await b.execute(ok)
    await failTimes(b, 2)
    expect(b.snapshot().consecutiveFailures).toBe(2)
    expect(b.state).toBe('closed')
  })

  it('rejects at once without calling the function while open', async () => {
    const b = breaker({ failureThreshold: 1 })
    await failTimes(b, 1)
    at(4_000)
    const fn = vi.fn(ok)
    const rejected: unknown[] = []
    b.onReject(({ error }) => rejected.push(error.code))
    const error = await rejection(b.execute(fn))
    expect(fn).not.toHaveBeenCalled()
    expect(error).toMatchObject({
      name: 'CircuitOpenError',
      code: 'UPTIMEKIT_CIRCUIT_OPEN',
      breaker: 'payments',
      state: 'open',
      retryAfterMs: 6_000,
      message: 'circuit "payments" is open: next attempt in 6 s',
    })
    expect(rejected).toEqual(['UPTIMEKIT_CIRCUIT_OPEN'])
  })

  it('counts only the errors isFailure accepts; the others count as successes', async () => {
    const notFound = Object.assign(new Error('not found'), { status: 404 })
    const b = breaker({
      failureThreshold: 2,
      isFailure: (error) => (error as { status?: number }).status !== 404,
    })
    await failTimes(b, 1)
    await expect(b.execute(() => Promise.reject(notFound))).rejects.toBe(notFound)
    expect(b.snapshot().consecutiveFailures).toBe(0)
    await expect(b.execute(() => Promise.reject(notFound))).rejects.toBe(notFound)
    expect(b.state).toBe('closed')
  })

  it('counts an error as a failure when isFailure itself throws', async () => {
    const b = breaker({
      failureThreshold: 1,
      isFailure: () => {
        throw new Error('bad predicate')
      },
    })
    await failTimes(b, 1)
    expect(b.state).toBe('open')
  })

  it('counts a synchronous throw like a rejection', async () => {
    const b = breaker({ failureThreshold: 1 })
    await expect(
      b.execute(() => {
        throw new Error('sync')
      }),
    ).rejects.toThrow('sync')
    expect(b.state).toBe('open')
  })
})

describe('open → half_open → closed', () => {
  it('turns half-open once the reset timeout has passed, with no timer', async () => {
    // No call timer either, so any timer left would be the reset's.
    const b = breaker({ failureThreshold: 1, callTimeoutMs: Infinity })
    await failTimes(b, 1)
    expect(vi.getTimerCount()).toBe(0)
    at(9_999)
    expect(b.state).toBe('open')
    at(10_000)
    expect(b.state).toBe('half_open')
  })

  it('lets only halfOpenMaxCalls trial calls through: 5 concurrent calls, 1 passes', async () => {
    const b = breaker({ failureThreshold: 1, halfOpenMaxCalls: 1 })
    await failTimes(b, 1)
    at(10_000)
    let release: (value: string) => void = () => {}
    const fn = vi.fn(() => new Promise<string>((resolve) => (release = resolve)))
    const calls = Array.from({ length: 5 }, () => b.execute(fn))
    const [first, ...rest] = calls
    const rejected = await Promise.all(rest.map(rejection))
    expect(fn).toHaveBeenCalledTimes(1)
    expect(rejected.map((e) => [e.state, e.retryAfterMs])).toEqual(
      Array.from({ length: 4 }, () => ['half_open', 1000]),
    )
    release('done')
    await expect(first).resolves.toBe('done')
    expect(b.state).toBe('closed')
  })

  it('closes after successThreshold successful trials', async () => {
    const b = breaker({ failureThreshold: 1, successThreshold: 2 })
    const changes: unknown[] = []
    b.onStateChange((change) => changes.push(change))
    await failTimes(b, 1)
    at(10_000)
    await b.execute(ok)
    expect(b.state).toBe('half_open')
    await b.execute(ok)
    expect(b.state).toBe('closed')
    expect(changes).toEqual([
      { from: 'closed', to: 'open' },
      { from: 'open', to: 'half_open' },
      { from: 'half_open', to: 'closed' },
    ])
  })

  it('reopens at once on a half-open failure and ignores the other trials that settle late', async () => {
    const b = breaker({ failureThreshold: 1, halfOpenMaxCalls: 2, successThreshold: 1 })
    await failTimes(b, 1)
    at(10_000)
    let release: (value: string) => void = () => {}
    const slow = b.execute(() => new Promise<string>((resolve) => (release = resolve)))
    await failTimes(b, 1)
    expect(b.state).toBe('open')
    release('late')
    await expect(slow).resolves.toBe('late')
    expect(b.state).toBe('open')
  })

  it('grows the reset timeout on each reopening, up to the cap, and resets it on close', async () => {
    const b = breaker({
      failureThreshold: 1,
      resetTimeoutMs: 1_000,
      backoff: { factor: 3, maxResetTimeoutMs: 5_000 },
    })
    const periods: Array<number | null> = []
    let now = T0
    await failTimes(b, 1)
    for (let i = 0; i < 3; i++) {
      const next = b.snapshot().nextAttemptAt ?? 0
      periods.push(next - now)
      vi.advanceTimersByTime(next - now)
      now = next
      await failTimes(b, 1)
    }
    periods.push((b.snapshot().nextAttemptAt ?? 0) - now)
    expect(periods).toEqual([1_000, 3_000, 5_000, 5_000])
    vi.advanceTimersByTime(5_000)
    now += 5_000
    await b.execute(ok)
    await failTimes(b, 1)
    expect(b.snapshot()).toMatchObject({ reopenCount: 0, nextAttemptAt: now + 1_000 })
  })

  it('takes up to jitterRatio off the open period at random', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const b = breaker({ failureThreshold: 1, backoff: { jitterRatio: 0.2 } })
    await failTimes(b, 1)
    expect(b.snapshot().nextAttemptAt).toBe(T0 + 9_000)
  })
})

describe('call timeout and signals', () => {
  it('aborts the signal after callTimeoutMs, rejects with CallTimeoutError and counts a failure', async () => {
    const b = breaker({ failureThreshold: 1, callTimeoutMs: 100 })
    const timeouts: unknown[] = []
    const failures: unknown[] = []
    b.onTimeout(({ error }) => timeouts.push(error.code))
    b.onFailure(({ reason }) => failures.push(reason))
    let seen: AbortSignal | undefined
    const call = b.execute((signal) => {
      seen = signal
      return new Promise(() => {})
    })
    const settled = call.catch((error: unknown) => error)
    expect(vi.getTimerCount()).toBe(1)
    await vi.advanceTimersByTimeAsync(100)
    const error = await settled
    expect(isCallTimeoutError(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'UPTIMEKIT_CALL_TIMEOUT',
      breaker: 'payments',
      timeoutMs: 100,
      message: 'call through circuit "payments" timed out after 100 ms',
    })
    expect(seen?.aborted).toBe(true)
    expect(seen?.reason).toBe(error)
    expect(timeouts).toEqual(['UPTIMEKIT_CALL_TIMEOUT'])
    expect(failures).toEqual(['timeout'])
    expect(b.state).toBe('open')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps no timer past the deadline of a call that settled first', async () => {
    // The settled call's timer is unref()ed at once (the resources test checks the process
    // ends), then gone when due.
    const b = breaker({ callTimeoutMs: 100 })
    await expect(b.execute(ok)).resolves.toBe('ok')
    await vi.advanceTimersByTimeAsync(100)
    expect(vi.getTimerCount()).toBe(0)
    expect(b.state).toBe('closed')
  })

  it('times every call out after 10 s by default', async () => {
    const b = breaker()
    const settled = b.execute(() => new Promise(() => {})).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(9_999)
    expect(b.snapshot().consecutiveFailures).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(await settled).toMatchObject({ code: 'UPTIMEKIT_CALL_TIMEOUT', timeoutMs: 10_000 })
    expect(b.snapshot().consecutiveFailures).toBe(1)
  })

  it('opens on a dependency that hangs, with the default call timeout', async () => {
    const b = breaker({ failureThreshold: 3 })
    const hang = () => new Promise<never>(() => {})
    const calls = [b.execute(hang), b.execute(hang), b.execute(hang)].map((call) =>
      call.catch((error: unknown) => (error as { code?: string }).code),
    )
    await vi.advanceTimersByTimeAsync(10_000)
    expect(await Promise.all(calls)).toEqual(Array(3).fill('UPTIMEKIT_CALL_TIMEOUT'))
    expect(b.state).toBe('open')
  })

  it('ends a hung half-open trial at the default call timeout, so later calls get their turn', async () => {
    const b = breaker({ failureThreshold: 1 })
    await failTimes(b, 1)
    at(10_000)
    const trial = b.execute(() => new Promise<never>(() => {})).catch(() => 'timed out')
    expect(b.snapshot().halfOpen).toEqual({ inFlight: 1, successes: 0 })
    await vi.advanceTimersByTimeAsync(10_000)
    expect(await trial).toBe('timed out')
    expect(b.snapshot()).toMatchObject({ state: 'open', reopenCount: 1 })
    await vi.advanceTimersByTimeAsync(20_000)
    await expect(b.execute(ok)).resolves.toBe('ok')
    expect(b.state).toBe('closed')
  })

  it('accepts the longest timer Node keeps, 2^31 - 1 ms, and a call is not cut short', async () => {
    const b = breaker({ callTimeoutMs: 2 ** 31 - 1 })
    const call = b.execute(
      () => new Promise((resolve) => setTimeout(() => resolve('late'), 60_000)),
    )
    await vi.advanceTimersByTimeAsync(60_000)
    await expect(call).resolves.toBe('late')
    expect(b.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 })
  })

  it('creates no timer per call with callTimeoutMs: Infinity', async () => {
    const b = breaker({ callTimeoutMs: Infinity })
    let timersDuringCall = -1
    await b.execute(() => {
      timersDuringCall = vi.getTimerCount()
      return ok()
    })
    expect(timersDuringCall).toBe(0)
  })

  it('hands the caller signal through and does not count an error after the caller aborted', async () => {
    const b = breaker({ failureThreshold: 1 })
    const caller = new AbortController()
    const call = b.execute(untilAborted, caller.signal)
    caller.abort(new Error('client went away'))
    await expect(call).rejects.toThrow('client went away')
    expect(b.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 })
  })

  it('forwards the caller abort to the timed signal and does not count it', async () => {
    const b = breaker({ failureThreshold: 1, callTimeoutMs: 1_000 })
    const caller = new AbortController()
    const call = b.execute(untilAborted, caller.signal)
    caller.abort(new Error('stop'))
    await expect(call).rejects.toThrow('stop')
    expect(b.state).toBe('closed')
    // The call's deadline is dropped: passing it counts nothing.
    await vi.advanceTimersByTimeAsync(1_000)
    expect(b.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 })
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects with the reason of an already aborted signal without calling', async () => {
    const b = breaker()
    const fn = vi.fn(ok)
    await expect(b.execute(fn, AbortSignal.abort(new Error('too late')))).rejects.toThrow(
      'too late',
    )
    expect(fn).not.toHaveBeenCalled()
  })
})

describe('permits', () => {
  it('frees the half-open trial slot on release without counting', async () => {
    const b = breaker({ failureThreshold: 1 })
    await failTimes(b, 1)
    at(10_000)
    const permit = b.tryAcquire()
    if (isCircuitOpenError(permit)) throw permit
    expect(isCircuitOpenError(b.tryAcquire())).toBe(true)
    permit.release()
    permit.failure(new Error('ignored: already settled'))
    expect(b.snapshot().halfOpen).toEqual({ inFlight: 0, successes: 0 })
    const second = b.tryAcquire()
    if (isCircuitOpenError(second)) throw second
    second.success()
    expect(b.state).toBe('closed')
  })

  it('ignores outcomes of calls admitted before a manual close', () => {
    const b = breaker({ failureThreshold: 1 })
    const permit = b.tryAcquire()
    if (isCircuitOpenError(permit)) throw permit
    b.forceClose()
    permit.failure(new Error('stale'))
    expect(b.state).toBe('closed')
  })
})

describe('manual control', () => {
  it('forceOpen holds the circuit open past the reset timeout until forceClose', async () => {
    const b = breaker()
    b.forceOpen()
    at(60_000)
    expect(b.state).toBe('open')
    const error = await rejection(b.execute(ok))
    expect(error.message).toBe('circuit "payments" is open: it is held open by forceOpen()')
    expect(error.retryAfterMs).toBe(10_000)
    expect(b.snapshot()).toMatchObject({ mode: 'forced_open', nextAttemptAt: null })
    b.forceClose()
    await expect(b.execute(ok)).resolves.toBe('ok')
    expect(b.snapshot().mode).toBe('auto')
  })

  it('disable lets every call through uncounted', async () => {
    const b = breaker({ failureThreshold: 1 })
    b.disable()
    await failTimes(b, 5)
    expect(b.snapshot()).toMatchObject({
      state: 'closed',
      mode: 'disabled',
      consecutiveFailures: 0,
    })
    b.forceClose()
    await failTimes(b, 1)
    expect(b.state).toBe('open')
  })
})

describe('observing', () => {
  it('snapshot gives state, counts and the next attempt time', async () => {
    const b = breaker({ failureThreshold: 2 })
    await failTimes(b, 1)
    expect(b.snapshot()).toEqual({
      name: 'payments',
      state: 'closed',
      mode: 'auto',
      consecutiveFailures: 1,
      window: null,
      halfOpen: null,
      openedAt: null,
      nextAttemptAt: null,
      reopenCount: 0,
    })
    at(5)
    await failTimes(b, 1)
    expect(b.snapshot()).toEqual({
      name: 'payments',
      state: 'open',
      mode: 'auto',
      consecutiveFailures: 2,
      window: null,
      halfOpen: null,
      openedAt: T0 + 5,
      nextAttemptAt: T0 + 10_005,
      reopenCount: 0,
    })
  })

  it('snapshot is exact while half-open, held open, disabled and with a rolling window', async () => {
    const b = breaker({ failureThreshold: 1, successThreshold: 2, halfOpenMaxCalls: 2 })
    await failTimes(b, 1)
    at(10_000)
    await b.execute(ok)
    const trial = b.tryAcquire()
    if (isCircuitOpenError(trial)) throw trial
    const base = { name: 'payments', window: null, openedAt: null, nextAttemptAt: null }
    expect(b.snapshot()).toEqual({
      ...base,
      state: 'half_open',
      mode: 'auto',
      consecutiveFailures: 1,
      halfOpen: { inFlight: 1, successes: 1 },
      reopenCount: 0,
    })
    trial.failure(new Error('still down'))
    b.forceOpen()
    expect(b.snapshot()).toEqual({
      ...base,
      state: 'open',
      mode: 'forced_open',
      consecutiveFailures: 1,
      halfOpen: null,
      openedAt: T0 + 10_000,
      reopenCount: 1,
    })
    b.disable()
    expect(b.snapshot()).toEqual({
      ...base,
      state: 'closed',
      mode: 'disabled',
      consecutiveFailures: 0,
      halfOpen: null,
      reopenCount: 0,
    })
    const windowed = breaker({ window: { windowMs: 1_000, minimumCalls: 10 } })
    await failTimes(windowed, 1)
    await windowed.execute(ok)
    expect(windowed.snapshot()).toEqual({
      ...base,
      state: 'closed',
      mode: 'auto',
      consecutiveFailures: 0,
      window: { calls: 2, failures: 1, slowCalls: 0 },
      halfOpen: null,
      reopenCount: 0,
    })
  })

  it('emits every event with its exact payload, in order, through a full cycle', async () => {
    const b = breaker({ failureThreshold: 1, callTimeoutMs: 50 })
    const events: unknown[] = []
    b.onStateChange((event) => events.push(['stateChange', event]))
    b.onSuccess((event) => events.push(['success', event]))
    b.onFailure((event) => events.push(['failure', event]))
    b.onReject((event) => events.push(['reject', event.error.code, event.error.retryAfterMs]))
    b.onTimeout((event) => events.push(['timeout', event.error.message]))
    const timedOut = b.execute(() => new Promise(() => {})).catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(50)
    const timeoutError = await timedOut
    at(1_050)
    await rejection(b.execute(ok))
    at(10_050)
    await b.execute(() => {
      at(10_070)
      return 'ok'
    })
    expect(events).toEqual([
      ['timeout', 'call through circuit "payments" timed out after 50 ms'],
      ['failure', { error: timeoutError, reason: 'timeout', durationMs: 50 }],
      ['stateChange', { from: 'closed', to: 'open' }],
      ['reject', 'UPTIMEKIT_CIRCUIT_OPEN', 9_000],
      ['stateChange', { from: 'open', to: 'half_open' }],
      ['success', { durationMs: 20 }],
      ['stateChange', { from: 'half_open', to: 'closed' }],
    ])
  })

  it('healthCheck fails while open, naming the breaker and when it retries', async () => {
    const b = breaker({ failureThreshold: 1 })
    const check = b.healthCheck()
    await expect(check(new AbortController().signal)).resolves.toEqual({
      state: 'closed',
      mode: 'auto',
    })
    await failTimes(b, 1)
    await expect(check(new AbortController().signal)).rejects.toThrow(
      'circuit "payments" is open: next attempt in 10 s',
    )
    at(10_000)
    await expect(check(new AbortController().signal)).resolves.toEqual({
      state: 'half_open',
      mode: 'auto',
    })
  })

  it('reports successes and failures with durations, and unsubscribes', async () => {
    const b = breaker()
    const events: unknown[] = []
    const off = b.onSuccess((event) => events.push(['success', event]))
    b.onFailure((event) => events.push(['failure', event.reason, event.durationMs]))
    await b.execute(() => {
      at(25)
      return 'ok'
    })
    off()
    await b.execute(ok)
    await failTimes(b, 1)
    expect(events).toEqual([
      ['success', { durationMs: 25 }],
      ['failure', 'error', 0],
    ])
  })

  it('logs a throwing listener and keeps going', async () => {
    const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() }
    const b = breaker({ failureThreshold: 1, logger })
    const bad = new Error('listener bug')
    b.onStateChange(() => {
      throw bad
    })
    const seen: unknown[] = []
    b.onStateChange((change) => seen.push(change))
    await failTimes(b, 1)
    expect(seen).toEqual([{ from: 'closed', to: 'open' }])
    expect(logger.error).toHaveBeenCalledWith(
      { breaker: 'payments', error: 'listener bug' },
      'a circuit breaker listener threw',
    )
    expect(logger.warn).toHaveBeenCalledWith(
      { breaker: 'payments', from: 'closed', to: 'open', mode: 'auto', retryInMs: 10_000 },
      'circuit "payments" opened',
    )
  })
})
