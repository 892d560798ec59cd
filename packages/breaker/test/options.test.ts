import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import { DEFAULTS } from '../src/options.js'
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

const make = (options: unknown) => () =>
  new CircuitBreaker({ name: 'p', logger: false, ...(options as object) })

describe('bad breaker options fail at construction, naming the option', () => {
  const ms = (option: string, got: string, min = 1) =>
    `\`${option}\` must be an integer of milliseconds from ${min} to 2147483647 (got ${got})`
  it.each([
    [make({ name: '' }), 'name', '`name` must be a non-empty string (got "")'],
    [make({ name: '  ' }), 'name', '`name` must not be blank (got "  ")'],
    [() => new CircuitBreaker(undefined as never), 'name', '`name` is required (got undefined)'],
    [
      make({ failureThreshold: 0 }),
      'failureThreshold',
      '`failureThreshold` must be an integer at least 1 (got 0)',
    ],
    [
      make({ successThreshold: 1.5 }),
      'successThreshold',
      '`successThreshold` must be an integer at least 1 (got 1.5)',
    ],
    [
      make({ halfOpenMaxCalls: -1 }),
      'halfOpenMaxCalls',
      '`halfOpenMaxCalls` must be an integer at least 1 (got -1)',
    ],
    [make({ resetTimeoutMs: '30s' }), 'resetTimeoutMs', ms('resetTimeoutMs', '"30s"')],
    [make({ resetTimeoutMs: 2 ** 31 }), 'resetTimeoutMs', ms('resetTimeoutMs', '2147483648')],
    [make({ callTimeoutMs: NaN }), 'callTimeoutMs', ms('callTimeoutMs', 'NaN')],
    [make({ callTimeoutMs: 0 }), 'callTimeoutMs', ms('callTimeoutMs', '0')],
    // Node fires a timer of 2^31 ms or more after 1 ms: every call would time out at once.
    [make({ callTimeoutMs: 2 ** 31 }), 'callTimeoutMs', ms('callTimeoutMs', '2147483648')],
    [make({ callTimeoutMs: 3e9 }), 'callTimeoutMs', ms('callTimeoutMs', '3000000000')],
    [make({ isFailure: true }), 'isFailure', '`isFailure` must be a function (got true)'],
    [
      make({ window: { failureRateThreshold: 1.5 } }),
      'window.failureRateThreshold',
      '`window.failureRateThreshold` must be a number above 0 and at most 1 (got 1.5)',
    ],
    [
      make({ window: { minimumCalls: 0 } }),
      'window.minimumCalls',
      '`window.minimumCalls` must be an integer at least 1 (got 0)',
    ],
    [
      make({ window: { windowMs: 5, buckets: 10 } }),
      'window.buckets',
      '`window.buckets` must be an integer at least 1 and at most 5 (got 10)',
    ],
    [
      make({ window: { windowMs: 2 ** 31 } }),
      'window.windowMs',
      ms('window.windowMs', '2147483648'),
    ],
    [make({ window: { slowCallMs: 0 } }), 'window.slowCallMs', ms('window.slowCallMs', '0')],
    [make({ window: [] }), 'window', '`window` must be an object (got an array)'],
    [
      make({ window: { minCalls: 3 } }),
      'window.minCalls',
      '`window.minCalls` is not an option of window (options: windowMs, buckets, minimumCalls, failureRateThreshold, slowCallMs) (got 3)',
    ],
    [
      make({ backoff: { factor: 0.5 } }),
      'backoff.factor',
      '`backoff.factor` must be a finite number at least 1 (got 0.5)',
    ],
    [
      make({ backoff: { jitterRatio: 1 } }),
      'backoff.jitterRatio',
      '`backoff.jitterRatio` must be below 1 (got 1)',
    ],
    [
      make({ resetTimeoutMs: 10_000, backoff: { maxResetTimeoutMs: 5_000 } }),
      'backoff.maxResetTimeoutMs',
      ms('backoff.maxResetTimeoutMs', '5000', 10_000),
    ],
    [
      make({ logger: console.log }),
      'logger',
      '`logger` must be false or have info, warn and error methods (pino-shaped) (got a function)',
    ],
    [
      make({ failureTreshold: 3 }),
      'failureTreshold',
      '`failureTreshold` is not an option of CircuitBreaker; did you mean `failureThreshold`? (options: name, failureThreshold, successThreshold, resetTimeoutMs, callTimeoutMs, halfOpenMaxCalls, isFailure, window, backoff, logger) (got 3)',
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
    [{ retries: -1 }, '`retries` must be an integer at least 0 (got -1)'],
    [
      { minDelayMs: -5 },
      '`minDelayMs` must be an integer of milliseconds from 0 to 2147483647 (got -5)',
    ],
    // A delay of 2^31 ms or more would fire after 1 ms: retries would go out with no delay.
    [
      { minDelayMs: 2 ** 31 },
      '`minDelayMs` must be an integer of milliseconds from 0 to 2147483647 (got 2147483648)',
    ],
    [
      { maxDelayMs: 2 ** 31 },
      '`maxDelayMs` must be an integer of milliseconds from 100 to 2147483647 (got 2147483648)',
    ],
    [
      { minDelayMs: 500, maxDelayMs: 100 },
      '`maxDelayMs` must be an integer of milliseconds from 500 to 2147483647 (got 100)',
    ],
    [{ factor: 0 }, '`factor` must be a finite number at least 1 (got 0)'],
    [{ jitter: 'equal' }, "`jitter` must be one of 'full', 'none' (got \"equal\")"],
    [{ retryOn: 'yes' }, '`retryOn` must be a function (got "yes")'],
    [{ signal: {} }, '`signal` must be an AbortSignal (got an object)'],
    [
      { retires: 2 },
      '`retires` is not an option of retry; did you mean `retries`? (options: retries, minDelayMs, maxDelayMs, factor, jitter, retryOn, signal) (got 2)',
    ],
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
    [
      { prefix: '/x' },
      '`prefix` is not an option of breakerGuard (options: isFailureStatus, onOpen) (got "/x")',
    ],
  ])('createRouteGuard(%j) throws', (options, message) => {
    expect(thrown(() => createRouteGuard('breakerGuard', options))).toMatchObject({
      code: 'UPTIMEKIT_INVALID_OPTION',
      message,
    })
  })

  it('lets the Fastify plugin take the options Fastify hands every plugin', () => {
    expect(createRouteGuard('breakerPlugin', { prefix: '/x', logLevel: 'warn' }).onOpen).toBe(
      undefined,
    )
  })
})

describe('DEFAULTS', () => {
  it('is frozen all the way down, so no caller can change the next breaker', () => {
    const frozen = (value: unknown): boolean =>
      typeof value !== 'object' ||
      value === null ||
      (Object.isFrozen(value) && Object.values(value).every(frozen))
    expect(frozen(DEFAULTS)).toBe(true)
    expect(() => {
      ;(DEFAULTS.window as { minimumCalls: number }).minimumCalls = 1
    }).toThrow(TypeError)
  })
})
