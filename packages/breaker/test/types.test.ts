import Fastify, { type FastifyContextConfig } from 'fastify'
import { describe, expect, expectTypeOf, it, onTestFinished } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import { breakerPlugin } from '../src/fastify.js'
import type {
  BreakerHealthDetails,
  BreakerSnapshot,
  CircuitPermit,
  FailureEvent,
  RejectEvent,
  StateChangeEvent,
  SuccessEvent,
  TimeoutEvent,
} from '../src/index.js'
import type { CircuitState } from '../src/circuit.js'
import type { CircuitOpenError } from '../src/errors.js'
import type { GuardedBreaker } from '../src/route-guard.js'

/** The listener type a breaker's `on*` method takes. */
type Listener<M extends 'onStateChange' | 'onSuccess' | 'onFailure' | 'onReject' | 'onTimeout'> =
  Parameters<CircuitBreaker[M]>[0]

// These are checked by `tsc` (the root typecheck covers tests); each also runs, so a wrong value fails too.
describe('public types', () => {
  const b = new CircuitBreaker({ name: 'payments', logger: false })

  it('execute resolves to what fn returns or resolves to, and hands fn an AbortSignal', async () => {
    const fromValue = b.execute(() => 1)
    const fromAsync = b.execute(async (signal) => {
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>()
      await Promise.resolve()
      return signal.aborted ? 'aborted' : 'running'
    })
    const thenable: PromiseLike<{ id: number }> = Promise.resolve({ id: 7 })
    const fromThenable = b.execute(() => thenable)
    const fromEither = b.execute((): number | Promise<number> => Promise.resolve(2))
    expectTypeOf(fromValue).toEqualTypeOf<Promise<number>>()
    expectTypeOf(fromAsync).toEqualTypeOf<Promise<'aborted' | 'running'>>()
    expectTypeOf(fromThenable).toEqualTypeOf<Promise<{ id: number }>>()
    expectTypeOf(fromEither).toEqualTypeOf<Promise<number>>()
    expect(await Promise.all([fromValue, fromAsync, fromThenable, fromEither])).toEqual([
      1,
      'running',
      { id: 7 },
      2,
    ])
    // @ts-expect-error fn receives an AbortSignal, not a string
    await b.execute((signal: string) => signal).catch(() => undefined)
    // @ts-expect-error the second argument is an AbortSignal
    await b.execute(() => 1, 'soon').catch(() => undefined)
  })

  it('listeners get their event types and return an unsubscribe function', () => {
    expectTypeOf<Listener<'onStateChange'>>().toEqualTypeOf<(event: StateChangeEvent) => void>()
    expectTypeOf<Listener<'onSuccess'>>().toEqualTypeOf<(event: SuccessEvent) => void>()
    expectTypeOf<Listener<'onFailure'>>().toEqualTypeOf<(event: FailureEvent) => void>()
    expectTypeOf<Listener<'onReject'>>().toEqualTypeOf<(event: RejectEvent) => void>()
    expectTypeOf<Listener<'onTimeout'>>().toEqualTypeOf<(event: TimeoutEvent) => void>()
    expectTypeOf<StateChangeEvent>().toEqualTypeOf<{ from: CircuitState; to: CircuitState }>()
    const off = b.onStateChange(() => {})
    expectTypeOf(off).toEqualTypeOf<() => void>()
    expect(off()).toBe(undefined)
  })

  it('state, snapshot, tryAcquire and healthCheck have the shapes other packages rely on', async () => {
    expectTypeOf(b.state).toEqualTypeOf<'closed' | 'open' | 'half_open'>()
    expectTypeOf(b.name).toEqualTypeOf<string>()
    expectTypeOf(b.snapshot()).toEqualTypeOf<BreakerSnapshot>()
    expectTypeOf(b.tryAcquire()).toEqualTypeOf<CircuitPermit | CircuitOpenError>()
    const check = b.healthCheck()
    expectTypeOf(check).toEqualTypeOf<(signal: AbortSignal) => Promise<BreakerHealthDetails>>()
    expectTypeOf(check).toExtend<(signal: AbortSignal) => Promise<unknown>>()
    expect(await check(new AbortController().signal)).toEqual({ state: 'closed', mode: 'auto' })
  })

  it('types the Fastify route option config.breaker once the plugin module is imported', async () => {
    expectTypeOf<FastifyContextConfig['breaker']>().toEqualTypeOf<GuardedBreaker | undefined>()
    expectTypeOf<CircuitBreaker>().toExtend<GuardedBreaker>()
    const app = Fastify()
    onTestFinished(() => app.close())
    await app.register(breakerPlugin)
    app.get('/pay', { config: { breaker: b } }, () => 'paid')
    // @ts-expect-error config.breaker must be a CircuitBreaker
    expect(() => app.get('/x', { config: { breaker: 'payments' } }, () => 'x')).toThrow(
      '`config.breaker` must be a CircuitBreaker (got "payments")',
    )
    expect((await app.inject('/pay')).body).toBe('paid')
  })
})
