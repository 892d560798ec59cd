import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import { isCircuitOpenError, isRetryError, type RetryError } from '../src/errors.js'
import { retry } from '../src/retry.js'

const T0 = Date.UTC(2030, 0, 1)

/** A function failing `failures` times, recording when each attempt started. */
function flaky(failures: number) {
  const startedAt: number[] = []
  const fn = vi.fn((_signal: AbortSignal, attempt: number) => {
    startedAt.push(Date.now() - T0)
    return attempt <= failures
      ? Promise.reject(new Error(`fail ${attempt}`))
      : Promise.resolve(attempt)
  })
  return { fn, startedAt }
}

async function settle(promise: Promise<unknown>): Promise<unknown> {
  const caught = promise.catch((error: unknown) => error)
  await vi.runAllTimersAsync()
  return caught
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - (times[i] ?? 0))

beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(T0)
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('retry', () => {
  it('retries until a call succeeds, passing the attempt number', async () => {
    const { fn } = flaky(2)
    await expect(settle(retry(fn, { retries: 3 }))).resolves.toBe(3)
    expect(fn.mock.calls.map(([, attempt]) => attempt)).toEqual([1, 2, 3])
  })

  it('gives up after retries + 1 attempts with the last error and the attempt count', async () => {
    const { fn } = flaky(10)
    const error = (await settle(retry(fn, { retries: 2 }))) as RetryError
    expect(isRetryError(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'UPTIMEKIT_RETRY_FAILED',
      attempts: 3,
      message: 'gave up after 3 attempts: fail 3',
    })
    expect((error.cause as Error).message).toBe('fail 3')
  })

  it('waits exactly minDelayMs × factor^(n-1), capped, without jitter', async () => {
    const { fn, startedAt } = flaky(10)
    await settle(
      retry(fn, { retries: 5, minDelayMs: 100, maxDelayMs: 1_000, factor: 3, jitter: 'none' }),
    )
    expect(gaps(startedAt)).toEqual([100, 300, 900, 1_000, 1_000])
  })

  it('keeps full-jitter delays between minDelayMs and the growing ceiling', async () => {
    const draws = [0, 0.999, 0.5, 1, 0.25]
    vi.spyOn(Math, 'random').mockImplementation(() => draws.shift() ?? 0)
    const { fn, startedAt } = flaky(10)
    await settle(retry(fn, { retries: 5, minDelayMs: 100, maxDelayMs: 1_000, factor: 2 }))
    const ceilings = [200, 400, 800, 1_000, 1_000]
    const delays = gaps(startedAt)
    expect(delays).toEqual([100, Math.floor(100 + 0.999 * 300), 450, 1_000, 325])
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(100)
      expect(d).toBeLessThanOrEqual(ceilings[i] ?? 0)
    })
  })

  it('never retries a circuit-open rejection', async () => {
    const breaker = new CircuitBreaker({ name: 'payments', failureThreshold: 1, logger: false })
    breaker.forceOpen()
    const fn = vi.fn(() => breaker.execute(() => Promise.resolve('unreachable')))
    const error = (await settle(retry(fn, { retries: 5 }))) as RetryError
    expect(fn).toHaveBeenCalledTimes(1)
    expect(error.attempts).toBe(1)
    expect(isCircuitOpenError(error.cause)).toBe(true)
  })

  it('stops when retryOn says no', async () => {
    const { fn } = flaky(10)
    const retryOn = vi.fn((_error: unknown, attempt: number) => attempt < 2)
    const error = (await settle(retry(fn, { retries: 5, retryOn }))) as RetryError
    expect(error.attempts).toBe(2)
    expect(retryOn.mock.calls.map(([e, n]) => [(e as Error).message, n])).toEqual([
      ['fail 1', 1],
      ['fail 2', 2],
    ])
  })

  it('rejects with the abort reason during a delay and calls nothing more', async () => {
    const controller = new AbortController()
    const { fn } = flaky(10)
    const result = retry(fn, { retries: 5, minDelayMs: 1_000, signal: controller.signal })
    const caught = result.catch((error: unknown) => error)
    await vi.advanceTimersByTimeAsync(500)
    expect(vi.getTimerCount()).toBe(1)
    controller.abort(new Error('shutting down'))
    expect(((await caught) as Error).message).toBe('shutting down')
    expect(fn).toHaveBeenCalledTimes(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('hands the signal to each attempt and rejects with its reason when an attempt aborts', async () => {
    const controller = new AbortController()
    const fn = vi.fn(
      (signal: AbortSignal) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(new Error('aborted fetch')))
        }),
    )
    const caught = retry(fn, { signal: controller.signal }).catch((error: unknown) => error)
    controller.abort(new Error('deadline'))
    expect(((await caught) as Error).message).toBe('deadline')
    expect(fn).toHaveBeenCalledTimes(1)
  })

  it('calls nothing when the signal is already aborted', async () => {
    const fn = vi.fn(() => Promise.resolve(1))
    await expect(retry(fn, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow(
      'gone',
    )
    expect(fn).not.toHaveBeenCalled()
  })
})
