import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import { isCircuitOpenError, type CircuitOpenError } from '../src/errors.js'
import type { CircuitBreakerOptions } from '../src/options.js'

const HOUR = 3_600_000
const boom = (): Promise<never> => Promise.reject(new Error('boom'))
const ok = (): Promise<string> => Promise.resolve('ok')

/** The wall clock, stubbed apart from the monotonic one so each can be stepped alone. */
let wall = Date.UTC(2030, 0, 1)

function breaker(options: Partial<CircuitBreakerOptions> = {}): CircuitBreaker {
  return new CircuitBreaker({
    name: 'payments',
    failureThreshold: 1,
    resetTimeoutMs: 10_000,
    backoff: { jitterRatio: 0 },
    logger: false,
    ...options,
  })
}

async function openError(b: CircuitBreaker): Promise<CircuitOpenError> {
  const error = await b.execute(ok).then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isCircuitOpenError(error)) throw new Error('expected a CircuitOpenError')
  return error
}

beforeEach(() => {
  // Only the monotonic clock and timers are faked; Date.now is a stub of our own.
  vi.useFakeTimers({ toFake: ['performance', 'setTimeout', 'clearTimeout'] })
  vi.spyOn(Date, 'now').mockImplementation(() => wall)
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('durations follow the monotonic clock, not the wall clock', () => {
  it('does not hold the circuit open when the wall clock steps back an hour', async () => {
    const b = breaker()
    await b.execute(boom).catch(() => undefined)
    wall -= HOUR
    expect((await openError(b)).retryAfterMs).toBe(10_000)
    vi.advanceTimersByTime(10_000)
    expect(b.state).toBe('half_open')
    await expect(b.execute(ok)).resolves.toBe('ok')
    expect(b.state).toBe('closed')
  })

  it('does not half-open early when the wall clock jumps forward an hour', async () => {
    const b = breaker()
    await b.execute(boom).catch(() => undefined)
    wall += HOUR
    expect(b.state).toBe('open')
    expect((await openError(b)).retryAfterMs).toBe(10_000)
    vi.advanceTimersByTime(9_999)
    expect(b.state).toBe('open')
    vi.advanceTimersByTime(1)
    expect(b.state).toBe('half_open')
  })

  it('does not count a 20 ms call as slow when the wall clock jumps 60 s during it', async () => {
    const b = breaker({
      failureThreshold: Infinity,
      window: { minimumCalls: 1, slowCallMs: 1_000 },
    })
    const durations: number[] = []
    b.onSuccess(({ durationMs }) => durations.push(durationMs))
    const call = b.execute(
      () =>
        new Promise<string>((resolve) => {
          wall += 60_000
          setTimeout(() => resolve('ok'), 20)
        }),
    )
    await vi.advanceTimersByTimeAsync(20)
    await expect(call).resolves.toBe('ok')
    expect(durations).toEqual([20])
    expect(b.snapshot()).toMatchObject({
      state: 'closed',
      window: { calls: 1, failures: 0, slowCalls: 0 },
    })
  })

  it('keeps the rolling window on the monotonic clock when the wall clock steps', async () => {
    const b = breaker({
      failureThreshold: Infinity,
      window: { windowMs: 1_000, buckets: 10, minimumCalls: 100 },
    })
    await b.execute(boom).catch(() => undefined)
    wall += HOUR
    expect(b.snapshot().window).toEqual({ calls: 1, failures: 1, slowCalls: 0 })
    wall -= 2 * HOUR
    await b.execute(ok)
    expect(b.snapshot().window).toEqual({ calls: 2, failures: 1, slowCalls: 0 })
    vi.advanceTimersByTime(1_000)
    expect(b.snapshot().window).toEqual({ calls: 0, failures: 0, slowCalls: 0 })
  })

  it('never reads Date.now for a duration: a wall clock that returns nonsense changes nothing', async () => {
    // Every read of the wall clock lands somewhere else within ±10 years.
    vi.mocked(Date.now).mockImplementation(
      () => wall + (Math.random() - 0.5) * 20 * 365 * 86_400_000,
    )
    const b = breaker({
      failureThreshold: 2,
      successThreshold: 2,
      halfOpenMaxCalls: 2,
      callTimeoutMs: 500,
      window: { windowMs: 10_000, minimumCalls: 1_000, slowCallMs: 300 },
    })
    const events: string[] = []
    b.onStateChange(({ to }) => events.push(to))
    b.onFailure(({ reason, durationMs }) => events.push(`${reason} ${durationMs}`))
    await b.execute(boom).catch(() => undefined)
    const hung = b.execute(() => new Promise(() => {})).catch(() => undefined)
    await vi.advanceTimersByTimeAsync(500)
    await hung
    expect(b.state).toBe('open')
    expect((await openError(b)).retryAfterMs).toBe(10_000)
    vi.advanceTimersByTime(9_999)
    expect(b.state).toBe('open')
    vi.advanceTimersByTime(1)
    const slow = b.execute(() => new Promise((resolve) => setTimeout(resolve, 300)))
    const fast = b.execute(ok)
    await vi.advanceTimersByTimeAsync(300)
    await Promise.all([slow, fast])
    expect(events).toEqual(['error 0', 'timeout 500', 'open', 'half_open', 'slow 300', 'open'])
    expect(b.snapshot()).toMatchObject({ state: 'open', reopenCount: 1 })
  })
})
