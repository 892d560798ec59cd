import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import type { CircuitBreakerOptions } from '../src/options.js'
import { RollingWindow } from '../src/rolling-window.js'

const T0 = Date.UTC(2030, 0, 1)
/** Moves the fake clocks (wall and monotonic) forward to `ms` after T0, firing due timers. */
const at = (ms: number): void => {
  vi.advanceTimersByTime(T0 + ms - Date.now())
}
const boom = (): Promise<never> => Promise.reject(new Error('boom'))
const ok = (): Promise<string> => Promise.resolve('ok')

function windowed(
  window: CircuitBreakerOptions['window'],
  more: Partial<CircuitBreakerOptions> = {},
) {
  return new CircuitBreaker({
    name: 'search',
    resetTimeoutMs: 10_000,
    logger: false,
    window,
    ...more,
  })
}

async function run(b: CircuitBreaker, pattern: string): Promise<void> {
  for (const c of pattern) await b.execute(c === 'x' ? boom : ok).catch(() => undefined)
}

beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(T0)
})
afterEach(() => vi.useRealTimers())

describe('rolling window', () => {
  it('does not trip before minimumCalls, even at a 100 % failure rate', async () => {
    const b = windowed({ minimumCalls: 5, failureRateThreshold: 0.5 })
    await run(b, 'xxxx')
    expect(b.snapshot()).toMatchObject({
      state: 'closed',
      window: { calls: 4, failures: 4, slowCalls: 0 },
    })
    await run(b, 'x')
    expect(b.state).toBe('open')
  })

  it('trips when the failure rate reaches the threshold, not a streak', async () => {
    const b = windowed({ minimumCalls: 10, failureRateThreshold: 0.5 })
    await run(b, 'x.x.x.x.x')
    expect(b.state).toBe('closed')
    await run(b, '.')
    expect(b.snapshot().window).toEqual({ calls: 10, failures: 5, slowCalls: 0 })
    expect(b.state).toBe('closed')
    await run(b, 'x')
    expect(b.state).toBe('open')
  })

  it('ignores a long streak below the rate when failureThreshold is unset', async () => {
    const b = windowed({ minimumCalls: 100, failureRateThreshold: 0.5 })
    await run(b, 'xxxxxxxxxx')
    expect(b.state).toBe('closed')
  })

  it('also trips on an explicit failureThreshold streak', async () => {
    const b = windowed({ minimumCalls: 100 }, { failureThreshold: 3 })
    await run(b, 'xxx')
    expect(b.state).toBe('open')
  })

  it('lets calls older than windowMs slide out, one bucket at a time', async () => {
    const b = windowed({
      windowMs: 10_000,
      buckets: 10,
      minimumCalls: 4,
      failureRateThreshold: 0.5,
    })
    await run(b, 'xx')
    at(5_000)
    await run(b, '.')
    at(10_000)
    expect(b.snapshot().window).toEqual({ calls: 1, failures: 0, slowCalls: 0 })
    await run(b, 'x..')
    expect(b.snapshot().window).toEqual({ calls: 4, failures: 1, slowCalls: 0 })
    expect(b.state).toBe('closed')
  })

  it('counts calls over slowCallMs as failures while the caller still gets the value', async () => {
    const b = windowed({ minimumCalls: 2, failureRateThreshold: 1, slowCallMs: 500 })
    const failures: unknown[] = []
    b.onFailure(({ reason, durationMs }) => failures.push([reason, durationMs]))
    const slow = () =>
      b.execute(() => {
        vi.advanceTimersByTime(500)
        return 'late'
      })
    await expect(slow()).resolves.toBe('late')
    await expect(slow()).resolves.toBe('late')
    expect(failures).toEqual([
      ['slow', 500],
      ['slow', 500],
    ])
    expect(b.snapshot()).toMatchObject({
      state: 'open',
      window: { calls: 2, failures: 2, slowCalls: 2 },
    })
  })

  it('starts from an empty window after recovering', async () => {
    const b = windowed({ minimumCalls: 2, failureRateThreshold: 0.5 })
    await run(b, 'xx')
    at(10_000)
    await run(b, '.')
    expect(b.snapshot()).toMatchObject({
      state: 'closed',
      window: { calls: 0, failures: 0, slowCalls: 0 },
    })
  })
})

describe('RollingWindow', () => {
  it('keeps exact totals across the ring and empties itself after a long pause', () => {
    const w = new RollingWindow(1_000, 4, 1, 0.5)
    for (let t = 0; t < 1_000; t += 50) {
      if (t % 100 === 0) w.failure(T0 + t, false)
      else w.success(T0 + t)
    }
    expect(w.read(T0 + 999)).toEqual({ calls: 20, failures: 10, slowCalls: 0 })
    expect(w.read(T0 + 1_000)).toEqual({ calls: 15, failures: 7, slowCalls: 0 })
    expect(w.read(T0 + 1_750)).toEqual({ calls: 0, failures: 0, slowCalls: 0 })
    w.failure(T0 + 1_800, true)
    expect(w.read(T0 + 10_000)).toEqual({ calls: 0, failures: 0, slowCalls: 0 })
  })

  it('trips once it holds minimumCalls calls and the failed share reaches the threshold', () => {
    const w = new RollingWindow(1_000, 4, 3, 0.5)
    w.success(500)
    expect(w.failure(510, false)).toBe(false)
    expect(w.failure(520, false)).toBe(true)
    expect(w.read(520)).toEqual({ calls: 3, failures: 2, slowCalls: 0 })
  })
})
