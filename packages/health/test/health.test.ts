import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createHealth } from '../src/health.js'
import { isCheckTimeoutError } from '../src/errors.js'
import type { HealthLogger } from '../src/options.js'

function counted(work: (signal: AbortSignal) => Promise<unknown> = async () => {}) {
  const calls = { count: 0 }
  const check = (signal: AbortSignal) => {
    calls.count++
    return work(signal)
  }
  return { calls, check }
}

function recordingLogger() {
  const lines: { level: string; details: object; message: string }[] = []
  const at =
    (level: string) =>
    (details: object, message: string): void => {
      lines.push({ level, details, message })
    }
  const logger: HealthLogger = { info: at('info'), warn: at('warn'), error: at('error') }
  return { lines, logger }
}

describe('health.check()', () => {
  it('reports healthy with no checks', async () => {
    const report = await createHealth().check()
    expect(report).toEqual({ status: 'healthy', timestamp: expect.any(String), checks: {} })
  })

  it('reports each check with its details, and unhealthy when a critical one fails', async () => {
    const health = createHealth({
      checks: {
        ok: () => Promise.resolve({ rows: 1 }),
        broken: () => {
          throw new Error('boom')
        },
      },
    })
    const report = await health.check()
    expect(report).toEqual({
      status: 'unhealthy',
      timestamp: expect.any(String),
      checks: {
        ok: {
          status: 'pass',
          critical: true,
          durationMs: expect.any(Number),
          details: { rows: 1 },
        },
        broken: { status: 'fail', critical: true, durationMs: expect.any(Number), error: 'boom' },
      },
    })
  })

  it('reports degraded when only a non-critical check fails', async () => {
    const health = createHealth({
      checks: {
        ok: async () => {},
        optional: { check: () => Promise.reject(new Error('down')), critical: false },
      },
    })
    expect((await health.check()).status).toBe('degraded')
  })

  it('runs checks in parallel: two 150 ms checks finish in one run', async () => {
    const order: string[] = []
    const slow = (name: string) => async () => {
      order.push(`start ${name}`)
      await sleep(150)
      order.push(`end ${name}`)
    }
    await createHealth({ checks: { a: slow('a'), b: slow('b') } }).check()
    expect(order).toEqual(['start a', 'start b', 'end a', 'end b'])
  })

  it('shares one run between concurrent callers and reuses it for cacheMs', async () => {
    const { calls, check } = counted(() => sleep(50))
    const health = createHealth({ checks: { db: check }, cacheMs: 300 })
    const reports = await Promise.all(Array.from({ length: 50 }, () => health.check()))
    expect(calls.count).toBe(1)
    expect(new Set(reports).size).toBe(1)
    await health.check()
    expect(calls.count).toBe(1)
    await sleep(350)
    await Promise.all([health.check(), health.check()])
    expect(calls.count).toBe(2)
  })

  it('with cacheMs 0 still shares the run in flight but starts a new one afterwards', async () => {
    const { calls, check } = counted(() => sleep(20))
    const health = createHealth({ checks: { db: check }, cacheMs: 0 })
    await Promise.all([health.check(), health.check(), health.check()])
    expect(calls.count).toBe(1)
    await health.check()
    expect(calls.count).toBe(2)
  })

  it('fails a hung check at its timeout, aborts its signal, and keeps one execution pending', async () => {
    const signals: AbortSignal[] = []
    const { calls, check } = counted((signal) => {
      signals.push(signal)
      return new Promise(() => {})
    })
    const health = createHealth({ checks: { hung: check }, timeoutMs: 100, cacheMs: 0 })
    const first = await health.check()
    expect(first.checks.hung).toEqual({
      status: 'fail',
      critical: true,
      durationMs: 100,
      error: 'timed out after 100 ms',
      timedOut: true,
    })
    expect(signals[0]?.aborted).toBe(true)
    expect(isCheckTimeoutError(signals[0]?.reason)).toBe(true)
    for (let i = 0; i < 3; i++) await health.check()
    expect(calls.count).toBe(1)
  })

  it('starts the check again once a hung execution finally settles', async () => {
    let release: () => void = () => {}
    const { calls, check } = counted(
      () =>
        new Promise<void>((resolve) => {
          release = resolve
        }),
    )
    const health = createHealth({ checks: { slow: check }, timeoutMs: 50, cacheMs: 0 })
    expect((await health.check()).checks.slow?.status).toBe('fail')
    release()
    await sleep(0)
    const report = await health.check()
    expect(calls.count).toBe(2)
    expect(report.checks.slow?.status).toBe('fail')
  })

  it('uses a per-check timeoutMs over the top-level one', async () => {
    const health = createHealth({
      checks: { quick: { check: () => new Promise(() => {}), timeoutMs: 30 } },
      timeoutMs: 5000,
    })
    expect((await health.check()).checks.quick?.error).toBe('timed out after 30 ms')
  })

  it('turns check details into JSON-safe data and redacts strings in them', async () => {
    const health = createHealth({
      checks: {
        url: () => Promise.resolve({ dsn: 'postgres://app:s3cret@db:5432/app', n: 1 }),
        circular: () => {
          const o: Record<string, unknown> = {}
          o.self = o
          return Promise.resolve(o)
        },
      },
    })
    const { checks } = await health.check()
    expect(checks.url?.details).toEqual({ dsn: 'postgres://app:***@db:5432/app', n: 1 })
    expect(checks.circular?.details).toBe('[details not serializable]')
  })

  it('logs a failing check once at warn and its recovery at info, never per run', async () => {
    let up = false
    const { lines, logger } = recordingLogger()
    const health = createHealth({
      checks: {
        db: () =>
          up
            ? Promise.resolve()
            : Promise.reject(new Error('connect postgres://app:s3cret@db failed')),
      },
      cacheMs: 0,
      logger,
    })
    await health.check()
    await health.check()
    up = true
    await health.check()
    await health.check()
    expect(lines).toEqual([
      {
        level: 'warn',
        details: { check: 'db', critical: true, error: 'connect postgres://app:***@db failed' },
        message: 'health check db failed',
      },
      { level: 'info', details: { check: 'db' }, message: 'health check db recovered' },
    ])
  })
})

describe('interval mode', () => {
  it('runs checks in the background and answers from the last result without running them', async () => {
    const { calls, check } = counted()
    const health = createHealth({ checks: { db: check }, intervalMs: 100 })
    onTestFinished(() => health.close())
    await health.check()
    const before = calls.count
    await Promise.all([health.check(), health.check(), health.check()])
    expect(calls.count).toBe(before)
    await sleep(350)
    expect(calls.count).toBeGreaterThan(before)
  })

  it('stops running after close()', async () => {
    const { calls, check } = counted()
    const health = createHealth({ checks: { db: check }, intervalMs: 30 })
    await health.check()
    health.close()
    const after = calls.count
    await sleep(120)
    expect(calls.count).toBe(after)
  })
})

describe('readiness and startup', () => {
  it('answers /ready 503 for good after markNotReady, keeping the first reason; /live stays 200', async () => {
    const health = createHealth()
    health.markNotReady('shutting down')
    health.markNotReady('second reason')
    const ready = await health.answer('ready')
    expect(ready.statusCode).toBe(503)
    expect(JSON.parse(ready.body)).toEqual({ status: 'not_ready', reason: 'shutting down' })
    expect((await health.answer('live')).statusCode).toBe(200)
    expect(health.accepting).toBe(false)
  })

  it("with startup: 'manual' answers /startup and /ready 503 until markStarted()", async () => {
    const health = createHealth({ startup: 'manual' })
    expect(await health.answer('startup')).toEqual({
      statusCode: 503,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-length': '21',
        'cache-control': 'no-store',
      },
      body: '{"status":"starting"}',
    })
    expect(JSON.parse((await health.answer('ready')).body)).toEqual({
      status: 'not_ready',
      reason: 'starting',
    })
    health.markStarted()
    expect((await health.answer('startup')).body).toBe('{"status":"started"}')
    expect((await health.answer('ready')).statusCode).toBe(200)
  })

  it('starts immediately by default', async () => {
    expect((await createHealth().answer('startup')).statusCode).toBe(200)
  })

  it('keeps two instances in one process fully apart', async () => {
    const a = counted()
    const b = counted()
    const one = createHealth({ checks: { db: a.check } })
    const two = createHealth({ checks: { db: b.check } })
    one.markNotReady('draining')
    await one.check()
    expect((await one.answer('ready')).statusCode).toBe(503)
    expect((await two.answer('ready')).statusCode).toBe(200)
    expect([a.calls.count, b.calls.count]).toEqual([1, 1])
  })

  it('closes the checkers that hold resources', () => {
    let closed = 0
    const check = Object.assign(async () => {}, { close: () => closed++ })
    const health = createHealth({ checks: { loop: check } })
    health.close()
    health.close()
    expect(closed).toBe(1)
  })

  it('logs a checker that fails to close at error, redacted, and still closes the others', () => {
    const { lines, logger } = recordingLogger()
    let closed = 0
    const broken = Object.assign(async () => {}, {
      close: () => {
        throw new Error('quit failed on redis://app:s3cret@cache:6379')
      },
    })
    const fine = Object.assign(async () => {}, { close: () => closed++ })
    createHealth({ checks: { cache: broken, loop: fine }, logger }).close()
    expect(closed).toBe(1)
    expect(lines).toEqual([
      {
        level: 'error',
        details: { check: 'cache', error: 'quit failed on redis://app:***@cache:6379' },
        message: 'closing health check cache failed',
      },
    ])
  })
})
