import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import { isInvalidOptionError } from '../src/errors.js'
import { retry } from '../src/retry.js'
import { createRouteGuard } from '../src/route-guard.js'

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

const make = (options: unknown) => () => new CircuitBreaker({ name: 'p', ...(options as object) })

describe('bad breaker options fail at construction, naming the option', () => {
  it.each([
    [make({ name: '' }), 'name', '`name` must be a non-empty string (got "")'],
    [
      () => new CircuitBreaker(undefined as never),
      'name',
      '`name` must be a non-empty string (got undefined)',
    ],
    [
      make({ failureThreshold: 0 }),
      'failureThreshold',
      '`failureThreshold` must be an integer ≥ 1 (got 0)',
    ],
    [
      make({ successThreshold: 1.5 }),
      'successThreshold',
      '`successThreshold` must be an integer ≥ 1 (got 1.5)',
    ],
    [
      make({ halfOpenMaxCalls: -1 }),
      'halfOpenMaxCalls',
      '`halfOpenMaxCalls` must be an integer ≥ 1 (got -1)',
    ],
    [
      make({ resetTimeoutMs: '30s' }),
      'resetTimeoutMs',
      '`resetTimeoutMs` must be a positive finite number of milliseconds (got "30s")',
    ],
    [
      make({ callTimeoutMs: NaN }),
      'callTimeoutMs',
      '`callTimeoutMs` must be a positive finite number of milliseconds (got NaN)',
    ],
    [make({ isFailure: true }), 'isFailure', '`isFailure` must be a function (got true)'],
    [
      make({ window: { failureRateThreshold: 1.5 } }),
      'window.failureRateThreshold',
      '`window.failureRateThreshold` must be a ratio with 0 < ratio ≤ 1 (got 1.5)',
    ],
    [
      make({ window: { minimumCalls: 0 } }),
      'window.minimumCalls',
      '`window.minimumCalls` must be an integer ≥ 1 (got 0)',
    ],
    [
      make({ window: { windowMs: 5, buckets: 10 } }),
      'window.buckets',
      '`window.buckets` must be ≤ `window.windowMs` (5) (got 10)',
    ],
    [
      make({ window: { slowCallMs: 0 } }),
      'window.slowCallMs',
      '`window.slowCallMs` must be a positive finite number of milliseconds (got 0)',
    ],
    [make({ window: [] }), 'window', '`window` must be an object (got an array)'],
    [
      make({ backoff: { factor: 0.5 } }),
      'backoff.factor',
      '`backoff.factor` must be a finite number ≥ 1 (got 0.5)',
    ],
    [
      make({ backoff: { jitterRatio: 1 } }),
      'backoff.jitterRatio',
      '`backoff.jitterRatio` must be a ratio with 0 ≤ ratio < 1 (got 1)',
    ],
    [
      make({ resetTimeoutMs: 10_000, backoff: { maxResetTimeoutMs: 5_000 } }),
      'backoff.maxResetTimeoutMs',
      '`backoff.maxResetTimeoutMs` must be ≥ `resetTimeoutMs` (10000) (got 5000)',
    ],
    [
      make({ logger: console.log }),
      'logger',
      '`logger` must have info, warn and error methods (pino-shaped) (got function)',
    ],
    [
      make({ failureTreshold: 3 }),
      'failureTreshold',
      '`failureTreshold` is not an option (known: `name`, `failureThreshold`, `successThreshold`, `resetTimeoutMs`, `callTimeoutMs`, `halfOpenMaxCalls`, `isFailure`, `window`, `backoff`, `logger`) (got "failureTreshold")',
    ],
  ])('%#: %s', (create, option, message) => {
    const error = thrown(create)
    expect(error).toBeInstanceOf(TypeError)
    expect(isInvalidOptionError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'UPTIMEKIT_INVALID_OPTION', option, message })
  })

  it('accepts Infinity as a failureThreshold that never trips on a streak', () => {
    expect(new CircuitBreaker({ name: 'p', failureThreshold: Infinity }).state).toBe('closed')
  })
})

describe('bad retry and guard options', () => {
  it.each([
    [{ retries: -1 }, '`retries` must be an integer ≥ 0 (got -1)'],
    [{ minDelayMs: -5 }, '`minDelayMs` must be a finite number of milliseconds ≥ 0 (got -5)'],
    [
      { minDelayMs: 500, maxDelayMs: 100 },
      '`maxDelayMs` must be a finite number ≥ `minDelayMs` (500) (got 100)',
    ],
    [{ factor: 0 }, '`factor` must be a finite number ≥ 1 (got 0)'],
    [{ jitter: 'equal' }, "`jitter` must be 'full' or 'none' (got \"equal\")"],
    [{ retryOn: 'yes' }, '`retryOn` must be a function (got "yes")'],
    [{ signal: {} }, '`signal` must be an AbortSignal (got an object)'],
  ])('retry(%j) throws before calling', (options, message) => {
    let called = false
    const error = thrown(() =>
      retry(() => {
        called = true
      }, options as never),
    )
    expect(error).toMatchObject({ code: 'UPTIMEKIT_INVALID_OPTION', message })
    expect(called).toBe(false)
  })

  it.each([
    [{ isFailureStatus: 500 }, '`isFailureStatus` must be a function (got 500)'],
    [{ onOpen: 'fallback' }, '`onOpen` must be a function (got "fallback")'],
    ['yes', '`options` must be an object (got "yes")'],
  ])('createRouteGuard(%j) throws', (options, message) => {
    expect(thrown(() => createRouteGuard(options))).toMatchObject({
      code: 'UPTIMEKIT_INVALID_OPTION',
      message,
    })
  })
})
