import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { isSessionUnavailableError } from '../src/errors.js'
import { RedisSessionStore } from '../src/session-store.js'
import type { SessionRedisClient } from '../src/session-redis-client.js'

const DEADLINE_MS = 1000
const SLOW_MS = 600
const STORED = JSON.stringify({ cookie: { originalMaxAge: 60_000 }, userId: 'ada' })

const after = <T>(ms: number, value: T): Promise<T> =>
  new Promise((resolve) => setTimeout(() => resolve(value), ms))
const never = (): Promise<never> => new Promise(() => undefined)

/**
 * A Redis that answers reads after {@link SLOW_MS} (a node still redirecting during a failover)
 * and never answers writes (the master that died meanwhile).
 */
function slowThenHungRedis(): SessionRedisClient {
  const unused = (): Promise<never> => Promise.reject(new Error('not used here'))
  return {
    status: 'ready',
    get: () => after(SLOW_MS, STORED),
    pttl: () => after(SLOW_MS, 30_000),
    pexpire: never,
    eval: never,
    set: never,
    del: never,
    ping: unused,
    scan: unused,
    once: () => undefined,
    removeListener: () => undefined,
  }
}

/** Settles `operation` under fake timers; resolves with when it settled, in ms, and how. */
async function settle(operation: Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  let outcome: { ms: number; err: unknown } | undefined
  const start = performance.now()
  operation.then(
    () => (outcome = { ms: performance.now() - start, err: undefined }),
    (err: unknown) => (outcome = { ms: performance.now() - start, err }),
  )
  while (outcome === undefined) await vi.advanceTimersByTimeAsync(50)
  return outcome
}

describe('one deadline per store operation', () => {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'],
    })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  const store = (): RedisSessionStore =>
    new RedisSessionStore({
      redis: slowThenHungRedis(),
      unavailableTimeoutMs: DEADLINE_MS,
      // Every read refreshes the TTL: a load is GET + PTTL, then PEXPIRE.
      touchIntervalSeconds: 0,
      logger: false,
    })

  it('a load whose read was slow and whose TTL refresh hangs gets its 503 at the deadline', async () => {
    const { ms, err } = await settle(store().load('sid'))
    expect(isSessionUnavailableError(err)).toBe(true)
    // Not SLOW_MS + DEADLINE_MS: the refresh gets only what the read left of the deadline.
    expect(ms).toBeLessThan(DEADLINE_MS + 50)
  })

  it('a merge whose read was slow and whose write hangs gets its 503 at the deadline', async () => {
    const sessions = store()
    const session: Record<string, unknown> = { cookie: { originalMaxAge: 60_000 }, userId: 'ada' }
    sessions.remember(session)
    session.visits = 1
    const { ms, err } = await settle(sessions.save('sid', session))
    expect(isSessionUnavailableError(err)).toBe(true)
    expect(ms).toBeLessThan(DEADLINE_MS + 50)
  })
})
