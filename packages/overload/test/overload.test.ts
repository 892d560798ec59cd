import { EventEmitter } from 'node:events'
import { createHealth } from '@uptimekit/health'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import type { Logger } from '@uptimekit/internal'
import {
  createOverload,
  overloadWithClock,
  type Overload,
  type OverloadChange,
} from '../src/overload.js'
import type { OverloadOptions } from '../src/options.js'

const LONG_WAITS = { maxQueueWaitMs: 10_000, overloadedQueueWaitMs: 10_000 }

/** A response that closes when told to, like a node:http ServerResponse. */
class FakeResponse extends EventEmitter {
  writableFinished = false
  finish(): void {
    this.writableFinished = true
    this.emit('close')
  }
}

/**
 * An overload closed after the test. Requests may wait long for the loop unless told otherwise:
 * the test process is busy at times (the runner's own work), and most cases are not about that.
 */
function overloadFor(options: OverloadOptions = {}): Overload {
  const overload = createOverload({ logger: false, ...LONG_WAITS, ...options })
  onTestFinished(() => overload.close())
  return overload
}

/** Keeps the loop busy for `ms`, as a synchronous handler does. */
function spin(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end);
}

/** Resolves in a later loop turn, after the check phase. */
const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 1))

const reasonOf = (admission: ReturnType<Overload['admit']>) =>
  admission instanceof Promise ? 'queued' : admission.admitted ? 'admitted' : admission.reason

describe('createOverload', () => {
  it('sheds a request that waited longer than its priority allows for the event loop', async () => {
    // The overload's clock is the test's: each wait is set exactly, so a busy machine (a slow
    // turn, a descheduled process) cannot push an admitted request past its allowance. Not
    // overloaded: normal and critical requests may wait 40 ms, sheddable ones 20 ms.
    let now = 1_000
    const overload = overloadWithClock(
      {
        logger: false,
        maxEventLoopUtilization: false,
        maxEventLoopDelayMs: false,
        maxQueueWaitMs: 40,
        overloadedQueueWaitMs: 40,
      },
      () => now,
    )
    onTestFinished(() => overload.close())
    await nextTurn()
    expect(reasonOf(overload.admit({ url: '/a' }, new FakeResponse()))).toBe('admitted')
    now += 21
    expect(reasonOf(overload.admit({ url: '/b', priority: 'sheddable' }, new FakeResponse()))).toBe(
      'event_loop_backlog',
    )
    expect(reasonOf(overload.admit({ url: '/c' }, new FakeResponse()))).toBe('admitted')
    now += 19
    // 40 ms waited: exactly the allowance is still admitted.
    expect(reasonOf(overload.admit({ url: '/c2', priority: 'critical' }, new FakeResponse()))).toBe(
      'admitted',
    )
    now += 1
    expect(reasonOf(overload.admit({ url: '/d' }, new FakeResponse()))).toBe('event_loop_backlog')
    expect(reasonOf(overload.admit({ url: '/e', priority: 'critical' }, new FakeResponse()))).toBe(
      'event_loop_backlog',
    )
    expect(reasonOf(overload.admit({ url: '/ready' }, new FakeResponse()))).toBe('admitted')
    // A new turn starts afresh: the 41 ms of the last one are not carried over.
    await nextTurn()
    expect(reasonOf(overload.admit({ url: '/f' }, new FakeResponse()))).toBe('admitted')
    expect(overload.snapshot()).toMatchObject({
      admitted: 4,
      shed: { event_loop_backlog: 3, concurrency: 0, queue_timeout: 0 },
    })
  })

  it('never sheds the exempt paths, however the target is spelled', async () => {
    const overload = overloadFor({
      exemptPaths: ['/ready', '/metrics'],
      maxQueueWaitMs: 50,
      overloadedQueueWaitMs: 50,
    })
    await nextTurn()
    void overload.admit({ url: '/x' }, new FakeResponse())
    spin(60)
    for (const url of ['/ready', '/READY/', '/metrics?x=1', 'http://host/%72eady']) {
      expect(reasonOf(overload.admit({ url }, new FakeResponse()))).toBe('admitted')
    }
    expect(reasonOf(overload.admit({ url: '/live' }, new FakeResponse()))).toBe(
      'event_loop_backlog',
    )
  })

  it('frees a slot when the response closes, and counts an unknown priority as normal', () => {
    const overload = overloadFor({ concurrency: 1 })
    const first = new FakeResponse()
    expect(reasonOf(overload.admit({ url: '/a' }, first))).toBe('admitted')
    expect(overload.snapshot().inFlight).toBe(1)
    expect(
      reasonOf(overload.admit({ url: '/b', priority: 'urgent' as never }, new FakeResponse())),
    ).toBe('queued')
    expect(reasonOf(overload.admit({ url: '/c', priority: 'sheddable' }, new FakeResponse()))).toBe(
      'concurrency',
    )
    first.finish()
    expect(overload.snapshot()).toMatchObject({ inFlight: 1, queued: 0, admitted: 2 })
  })

  it('moves to shedding and back, telling listeners and the logger', async () => {
    const lines: string[] = []
    const record = (level: string) => (_details: object, message: string) => {
      lines.push(`${level}: ${message}`)
    }
    const logger: Logger = { info: record('info'), warn: record('warn'), error: record('error') }
    const overload = createOverload({
      concurrency: 1,
      windowMs: 200,
      sampleIntervalMs: 20,
      logger,
      ...LONG_WAITS,
    })
    onTestFinished(() => overload.close())
    const changes: OverloadChange[] = []
    const unsubscribe = overload.onChange((change) => changes.push(change))
    overload.onChange(() => {
      throw new Error('listener bug')
    })
    const running = new FakeResponse()
    void overload.admit({ url: '/a' }, running)
    void overload.admit({ url: '/b', priority: 'sheddable' }, new FakeResponse())
    expect(overload.state).toBe('shedding')
    running.finish()
    while (overload.state === 'shedding') await new Promise((resolve) => setTimeout(resolve, 10))
    expect(changes.map(({ from, to }) => `${from}>${to}`)).toEqual([
      'normal>shedding',
      'shedding>normal',
    ])
    expect(changes[0]?.snapshot.shed.concurrency).toBe(1)
    expect(lines).toEqual([
      'warn: overloaded: shedding requests',
      'error: an onChange listener threw',
      'info: load back to normal: nothing shed for a window',
      'error: an onChange listener threw',
    ])
    unsubscribe()
    void overload.admit({ url: '/c' }, new FakeResponse())
    void overload.admit({ url: '/d', priority: 'sheddable' }, new FakeResponse())
    expect(changes).toHaveLength(2)
  })

  it('makes health degraded, not unhealthy, while shedding', async () => {
    const overload = overloadFor({ concurrency: 1 })
    const health = createHealth({ checks: { overload: overload.healthCheck() }, cacheMs: 0 })
    onTestFinished(() => health.close())
    expect(await health.check()).toMatchObject({
      status: 'healthy',
      checks: { overload: { status: 'pass' } },
    })
    void overload.admit({ url: '/a' }, new FakeResponse())
    void overload.admit({ url: '/b', priority: 'sheddable' }, new FakeResponse())
    expect(await health.check()).toMatchObject({
      status: 'degraded',
      checks: {
        overload: {
          status: 'fail',
          critical: false,
          error: 'shedding requests (shed so far: concurrency 1)',
        },
      },
    })
  })

  it('reads the pressure signals over the window', async () => {
    const overload = overloadFor({ windowMs: 200, sampleIntervalMs: 20 })
    // The delay monitor records from its second tick on.
    await new Promise((resolve) => setTimeout(resolve, 30))
    spin(150)
    // The block shows in the reading at the next samples (a busy machine may delay them, so
    // poll for up to a second rather than for a fixed time; the reading holds for half a window).
    const until = performance.now() + 1000
    while (overload.snapshot().eventLoopDelayMs <= 100 && performance.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const s = overload.snapshot()
    expect(s.eventLoopDelayMs).toBeGreaterThan(100)
    expect(s.heapUsedRatio).toBeGreaterThan(0)
    expect(s.heapUsedRatio).toBeLessThan(1)
    expect(s.eventLoopUtilization).toBeGreaterThanOrEqual(0)
    expect(s.eventLoopUtilization).toBeLessThanOrEqual(1)
  })

  it('sheds a growing share of requests, sheddable first, while the heap is over its limit', async () => {
    // Any heap at all is over a limit this low.
    const overload = overloadFor({ maxHeapUsedRatio: 1e-9, sampleIntervalMs: 10, windowMs: 100 })
    while (overload.snapshot().shedLevel < 0.5) await new Promise((r) => setTimeout(r, 10))
    const tally = (priority: 'sheddable' | 'normal' | 'critical') => {
      let shed = 0
      for (let i = 0; i < 200; i++) {
        const a = overload.admit({ url: '/x', priority }, new FakeResponse())
        if (!(a instanceof Promise) && !a.admitted && a.reason === 'heap') shed++
      }
      return shed
    }
    // At a level in [0.5, 1): every sheddable, part of the normal and none of the critical ones.
    const level = overload.snapshot().shedLevel
    const [sheddable, normal, critical] = [tally('sheddable'), tally('normal'), tally('critical')]
    expect(level).toBeLessThan(0.67)
    expect(sheddable).toBe(200)
    expect(normal).toBeGreaterThan(0)
    expect(normal).toBeLessThan(200)
    expect(critical).toBe(0)
  })

  it('stops every timer it started on close()', () => {
    vi.useFakeTimers({
      toFake: [
        'setInterval',
        'clearInterval',
        'setImmediate',
        'clearImmediate',
        'setTimeout',
        'clearTimeout',
      ],
    })
    onTestFinished(() => {
      vi.useRealTimers()
    })
    const overload = createOverload({ logger: false, concurrency: 1 })
    void overload.admit({ url: '/a' }, new FakeResponse())
    void overload.admit({ url: '/b' }, new FakeResponse())
    // The sampling interval, the loop-turn marker and the queued request's deadline.
    expect(vi.getTimerCount()).toBe(3)
    overload.close()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('options', () => {
  it.each([
    [{ concurrency: 0 }, '`concurrency` must be an integer at least 1 (got 0)'],
    [{ concurrency: 'auto' }, '`concurrency` must be one of \'adaptive\' (got "auto")'],
    [{ maxEventLoopDelayMs: -1 }, '`maxEventLoopDelayMs` must be an integer of milliseconds'],
    [{ maxEventLoopUtilization: 1.5 }, '`maxEventLoopUtilization` must be a number above 0'],
    [{ maxHeapUsedRatio: 0 }, '`maxHeapUsedRatio` must be a number above 0 and at most 1 (got 0)'],
    [{ maxQueueWaitMs: 2 ** 31 }, '`maxQueueWaitMs` must be an integer of milliseconds from 1'],
    [
      { maxQueueWaitMs: 10, overloadedQueueWaitMs: 20 },
      '`overloadedQueueWaitMs` must be at most `maxQueueWaitMs` (10) (got 20)',
    ],
    [{ queueOrder: 'random' }, "`queueOrder` must be one of 'fifo', 'lifo' (got \"random\")"],
    [{ windowMs: 150 }, '`windowMs` must be at least twice `sampleIntervalMs` (200) (got 150)'],
    [{ exemptPaths: ['ready'] }, '`exemptPaths[0]` must start with / (got "ready")'],
    [{ exemptPaths: '/ready' }, '`exemptPaths` must be an array of paths (got "/ready")'],
    [{ retryAfterSeconds: 1.5 }, '`retryAfterSeconds` must be an integer at least 0 (got 1.5)'],
    [{ logger: console.log }, '`logger` must be false or have info, warn and error methods'],
    [
      { maxQueueWait: 5 },
      '`maxQueueWait` is not an option of createOverload; did you mean `maxQueueWaitMs`?',
    ],
  ])('rejects %o', (options, message) => {
    expect(() => createOverload(options as OverloadOptions)).toThrow(message)
  })

  it('takes false to turn a signal off', () => {
    const overload = overloadFor({
      maxEventLoopDelayMs: false,
      maxEventLoopUtilization: false,
      maxHeapUsedRatio: false,
    })
    expect(overload.snapshot().state).toBe('normal')
  })
})
