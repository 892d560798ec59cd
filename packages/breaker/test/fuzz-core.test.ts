import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import { isCircuitOpenError, isRetryError } from '../src/errors.js'
import type { CircuitPermit } from '../src/permit.js'
import { retry } from '../src/retry.js'
import { seeded } from '../../../test/support/seeded.js'
import { oddValues } from './fixtures/odd-values.js'

const SEED = 0x5eed_b7ea
const ROUNDS = 60
const STEPS = 120

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('fuzz: odd rejection values and random call patterns through the core', () => {
  it('never crashes, settles every call, keeps its invariants and recovers', async () => {
    const random = seeded(SEED)
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
    const values = oddValues()
    for (let round = 0; round < ROUNDS; round++) {
      const halfOpenMaxCalls = 1 + Math.floor(random() * 3)
      const successThreshold = 1 + Math.floor(random() * 2)
      const b = new CircuitBreaker({
        name: `fuzz-${round}`,
        failureThreshold: 1 + Math.floor(random() * 4),
        successThreshold,
        resetTimeoutMs: 100,
        callTimeoutMs: 50,
        halfOpenMaxCalls,
        backoff: { maxResetTimeoutMs: 400 },
        window: random() < 0.5 ? undefined : { windowMs: 1_000, minimumCalls: 3, slowCallMs: 30 },
        isFailure: () => {
          if (random() < 0.1) throw pick(values)
          return random() < 0.8 ? true : (pick(values) as boolean)
        },
        logger: false,
      })
      b.onStateChange(() => {
        if (random() < 0.2) throw pick(values)
      })
      b.onFailure(() => {
        if (random() < 0.1) throw pick(values)
      })
      const calls: Array<Promise<unknown>> = []
      const permits: CircuitPermit[] = []
      for (let step = 0; step < STEPS; step++) {
        const action = random()
        const value = pick(values)
        if (action < 0.45) {
          const kind = random()
          const call = b.execute((signal) => {
            if (kind < 0.15) throw value
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- odd values are the point
            if (kind < 0.5) return Promise.reject(value)
            if (kind < 0.6) return new Promise(() => {})
            if (kind < 0.7) return new Promise((resolve) => setTimeout(resolve, 40, value))
            if (kind < 0.75) return value
            return signal.aborted ? 'aborted' : 'ok'
          })
          calls.push(
            call.then(
              () => 'resolved',
              () => 'rejected',
            ),
          )
        } else if (action < 0.7) {
          const permit = b.tryAcquire()
          if ('success' in permit) permits.push(permit)
        } else if (action < 0.85 && permits.length > 0) {
          const permit = permits.splice(Math.floor(random() * permits.length), 1)[0]!
          const how = random()
          // Some permits are never settled: half-open ones must time out on their own.
          if (how < 0.4) permit.success()
          else if (how < 0.7) permit.failure(value)
          else if (how < 0.9) permit.release()
        } else if (action < 0.88) {
          b.forceOpen()
        } else if (action < 0.9) {
          b.forceClose()
        } else if (action < 0.91) {
          b.disable()
        } else {
          await vi.advanceTimersByTimeAsync(Math.floor(random() * 120))
        }
        const snapshot = b.snapshot()
        expect(['closed', 'open', 'half_open']).toContain(snapshot.state)
        if (snapshot.halfOpen !== null) {
          expect(snapshot.halfOpen.inFlight).toBeGreaterThanOrEqual(0)
          expect(snapshot.halfOpen.inFlight).toBeLessThanOrEqual(halfOpenMaxCalls)
        }
        expect(() => JSON.stringify(snapshot)).not.toThrow()
      }
      // Every call settles: the call timeout bounds even the ones that hang.
      await vi.advanceTimersByTimeAsync(100)
      const outcomes = await Promise.all(calls)
      expect(outcomes.every((o) => o === 'resolved' || o === 'rejected')).toBe(true)
      // No stuck state: left to itself (permits forgotten, an operator's forceOpen undone),
      // the breaker lets calls through again once its reset timeout and trials have run.
      if (b.snapshot().mode !== 'auto') b.forceClose()
      await vi.advanceTimersByTimeAsync(500)
      let closed = false
      for (let attempt = 0; attempt < 10 && !closed; attempt++) {
        await b.execute(() => 'ok').catch(() => undefined)
        closed = b.state === 'closed'
        if (!closed) await vi.advanceTimersByTimeAsync(500)
      }
      expect({ round, state: b.state }).toEqual({ round, state: 'closed' })
    }
  })

  it('retry() gives up with a RetryError whose message is text, whatever was thrown', async () => {
    for (const value of oddValues()) {
      const done = retry(() => Promise.reject(value as Error), { retries: 1, minDelayMs: 0 }).then(
        () => 'resolved',
        (error: unknown) => error,
      )
      await vi.advanceTimersByTimeAsync(10)
      const error = await done
      expect(isRetryError(error)).toBe(true)
      expect(typeof (error as Error).message).toBe('string')
      // A circuit-open rejection (by its code, as from another loaded copy) is never retried.
      expect((error as { attempts: number }).attempts).toBe(isCircuitOpenError(value) ? 1 : 2)
    }
  })
})
