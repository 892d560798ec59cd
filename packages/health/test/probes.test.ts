import { describe, expect, it, onTestFinished } from 'vitest'
import pg from 'pg'
import { MAX_TIMER_MS } from '@uptimekit/internal'
import { createHealth } from '../src/health.js'
import { httpCheck } from '../src/checks/http.js'
import { pgCheck } from '../src/checks/pg.js'
import { heapCheck } from '../src/checks/heap.js'
import { diskCheck } from '../src/checks/disk.js'
import { eventLoopCheck } from '../src/checks/event-loop.js'
import type { HealthLogger } from '../src/options.js'
import { closedPort } from '../../../test/support/ports.js'
import { ADAPTERS, serveForTest } from './servers.js'

const JSON_TYPE = 'application/json; charset=utf-8'
const IETF = { accept: 'application/health+json' }

function counted(work: (signal: AbortSignal) => Promise<unknown> = async () => {}) {
  const calls = { count: 0, pending: 0, maxPending: 0, signals: [] as AbortSignal[] }
  const check = (signal: AbortSignal) => {
    calls.count++
    calls.maxPending = Math.max(calls.maxPending, ++calls.pending)
    calls.signals.push(signal)
    return work(signal).finally(() => {
      calls.pending--
    })
  }
  return { calls, check }
}

function recordingLogger() {
  const lines: unknown[] = []
  const at = (level: string) => (details: object, message: string) =>
    lines.push({ level, details, message })
  const logger: HealthLogger = { info: at('info'), warn: at('warn'), error: at('error') }
  return { lines, logger }
}

async function get(url: string, init?: RequestInit) {
  const response = await fetch(url, init)
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: /json/.test(response.headers.get('content-type') ?? '')
      ? (JSON.parse(text) as unknown)
      : undefined,
  }
}

const pick = (answer: { status: number; body: unknown }) => [answer.status, answer.body]

describe.each(ADAPTERS)('%s adapter', (_name, start) => {
  it('serves /live, /ready, /health and /startup with no checks', async () => {
    const url = await start(createHealth())
    expect(pick(await get(`${url}/live`))).toEqual([200, { status: 'ok' }])
    expect(pick(await get(`${url}/ready`))).toEqual([200, { status: 'ready' }])
    expect(pick(await get(`${url}/startup`))).toEqual([200, { status: 'started' }])
    expect((await get(`${url}/health`)).body).toEqual({
      status: 'healthy',
      timestamp: expect.any(String),
      uptime: expect.any(Number),
      checks: {},
    })
    expect(pick(await get(`${url}/other`))).toEqual([200, { other: true }])
    expect((await get(`${url}/live`, { method: 'POST' })).status).toBe(404)
  })

  it('never runs a check for /live or /startup, even while the check fails', async () => {
    const { calls, check } = counted(() => Promise.reject(new Error('redis down')))
    const url = await start(createHealth({ checks: { redis: check }, cacheMs: 0 }))
    for (const path of ['/live', '/startup']) {
      for (const headers of [{}, IETF]) {
        expect((await get(`${url}${path}`, { headers })).status).toBe(200)
        expect((await fetch(`${url}${path}`, { method: 'HEAD', headers })).status).toBe(200)
      }
    }
    expect(calls.count).toBe(0)
    expect((await get(`${url}/ready`)).status).toBe(503)
    expect(calls.count).toBe(1)
  })

  it('scenario 1: 200 concurrent /health probes run a 50 ms check once, and later probes reuse it', async () => {
    const { calls, check } = counted(() => new Promise((resolve) => setTimeout(resolve, 50)))
    // A cache that cannot expire during the storm, however slow the machine: expiry is covered
    // in health.test.ts.
    const url = await start(createHealth({ checks: { db: check }, cacheMs: MAX_TIMER_MS }))
    const storm = await Promise.all(Array.from({ length: 200 }, () => get(`${url}/health`)))
    expect(storm.map((r) => r.status)).toEqual(Array(200).fill(200))
    expect(calls.count).toBe(1)
    await Promise.all(Array.from({ length: 50 }, () => get(`${url}/health`)))
    expect(calls.count).toBe(1)
  })

  it('scenario 2: a hung check fails /ready at its 300 ms timeout and never piles up executions', async () => {
    const rejections: unknown[] = []
    const onRejection = (reason: unknown) => rejections.push(reason)
    process.on('unhandledRejection', onRejection)
    onTestFinished(() => {
      process.off('unhandledRejection', onRejection)
    })
    const hung = counted(() => new Promise(() => {}))
    // A driver that honours its signal: it rejects once aborted, after the probe has its answer.
    const quitter = counted(
      (signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () =>
            reject(new Error('aborted', { cause: signal.reason })),
          )
        }),
    )
    const url = await start(
      createHealth({
        checks: { hung: hung.check, quitter: quitter.check },
        timeoutMs: 300,
        cacheMs: 0,
      }),
    )
    const ready = await get(`${url}/ready`)
    expect(ready.status).toBe(503)
    expect(ready.body).toEqual({
      status: 'not_ready',
      reason: 'critical checks failing',
      checks: {
        hung: { status: 'fail', critical: true, failure: 'timeout' },
        quitter: { status: 'fail', critical: true, failure: 'timeout' },
      },
    })
    expect(hung.calls.signals[0]?.aborted).toBe(true)
    for (let wave = 0; wave < 4; wave++) {
      const answers = await Promise.all(Array.from({ length: 25 }, () => get(`${url}/ready`)))
      expect(new Set(answers.map((a) => a.status))).toEqual(new Set([503]))
    }
    expect([hung.calls.count, hung.calls.pending, hung.calls.maxPending]).toEqual([1, 1, 1])
    expect([quitter.calls.pending, quitter.calls.maxPending]).toEqual([0, 1])
    expect(quitter.calls.signals.map((signal) => signal.aborted)).toEqual(
      Array(quitter.calls.count).fill(true),
    )
    expect(rejections).toEqual([])
  })

  it('scenario 4: a failing non-critical check is degraded (200) and leaves /ready 200', async () => {
    const url = await start(
      createHealth({
        checks: {
          db: async () => {},
          payments: { check: () => Promise.reject(new Error('upstream down')), critical: false },
        },
      }),
    )
    const health = await get(`${url}/health`)
    expect(health.status).toBe(200)
    expect(health.body).toEqual({
      status: 'degraded',
      timestamp: expect.any(String),
      uptime: expect.any(Number),
      checks: {
        db: { status: 'pass', critical: true },
        payments: { status: 'fail', critical: false, failure: 'error' },
      },
    })
    expect((await get(`${url}/ready`)).status).toBe(200)

    const ietf = await get(`${url}/health`, { headers: IETF })
    expect(ietf.status).toBe(200)
    expect(ietf.headers.get('content-type')).toBe('application/health+json')
    const time = expect.stringMatching(/^\d{4}-\d\d-\d\dT/)
    expect(ietf.body).toEqual({
      status: 'warn',
      output: 'non-critical checks failing: payments',
      checks: {
        'db:responseTime': [
          {
            componentType: 'component',
            status: 'pass',
            observedValue: expect.any(Number),
            observedUnit: 'ms',
            time,
          },
        ],
        'payments:responseTime': [
          {
            componentType: 'component',
            status: 'warn',
            observedValue: expect.any(Number),
            observedUnit: 'ms',
            time,
            output: 'error',
          },
        ],
      },
    })
  })

  it('scenario 4: a failing critical check is unhealthy (503) and IETF "fail"', async () => {
    const url = await start(
      createHealth({ checks: { db: () => Promise.reject(new Error('down')) } }),
    )
    const plain = await get(`${url}/health`)
    expect(plain.status).toBe(503)
    expect(plain.body).toEqual({
      status: 'unhealthy',
      timestamp: expect.any(String),
      uptime: expect.any(Number),
      checks: { db: { status: 'fail', critical: true, failure: 'error' } },
    })
    const ietf = await get(`${url}/health`, {
      headers: { accept: 'text/html, application/health+json;q=0.9' },
    })
    expect(ietf.status).toBe(503)
    const dbFailing = {
      'db:responseTime': [
        {
          componentType: 'component',
          status: 'fail',
          observedValue: expect.any(Number),
          observedUnit: 'ms',
          time: expect.any(String),
          output: 'error',
        },
      ],
    }
    expect(ietf.body).toEqual({
      status: 'fail',
      output: 'critical checks failing: db',
      checks: dbFailing,
    })
    const ready = await get(`${url}/ready`, { headers: IETF })
    expect(ready.status).toBe(503)
    expect(ready.body).toEqual({
      status: 'fail',
      output: 'critical checks failing',
      checks: dbFailing,
    })
    expect((await get(`${url}/live`, { headers: IETF })).body).toEqual({ status: 'pass' })
  })

  it('scenario 4: every probe answer carries Cache-Control: no-store, for GET and HEAD', async () => {
    const health = createHealth({ checks: { db: async () => {} }, startup: 'manual' })
    const url = await start(health)
    for (const path of ['/live', '/ready', '/health', '/health/detailed', '/startup']) {
      for (const method of ['GET', 'HEAD']) {
        for (const headers of [{}, IETF]) {
          const response = await fetch(`${url}${path}`, { method, headers })
          await response.arrayBuffer()
          expect([path, method, response.headers.get('cache-control')]).toEqual([
            path,
            method,
            'no-store',
          ])
        }
      }
    }
  })

  it('scenario 6: no credential reaches /health/detailed or the logs; 401 without the token', async () => {
    const dbPort = await closedPort()
    const dsn = `postgres://app:s3cret@127.0.0.1:${dbPort}/app`
    const pool = new pg.Pool({ connectionString: dsn, connectionTimeoutMillis: 1000 })
    onTestFinished(() => pool.end())
    // What an ORM does: wrap the driver error with the connection string in it.
    const orm = {
      query: (sql: string) =>
        pool.query(sql).catch((error: Error) => {
          throw new Error(`query failed on ${dsn}: ${error.message}`, { cause: error })
        }),
    }
    const seen: (string | undefined)[] = []
    const upstream = await serveForTest((req, res) => {
      seen.push(req.headers.authorization)
      res.writeHead(500).end('{"error":"Authorization: Bearer s3cret rejected"}')
    })
    const { lines, logger } = recordingLogger()
    const token = 'a-token-of-24-characters'
    const url = await start(
      createHealth({
        checks: {
          db: pgCheck(orm),
          payments: { check: httpCheck(upstream.replace('//', '//svc:s3cret@')), critical: false },
          audit: () =>
            Promise.reject(
              new Error('POST https://audit failed, headers {"Authorization":"Bearer s3cret"}'),
            ),
        },
        token,
        version: '1.2.3',
        environment: 'test',
        logger,
      }),
    )
    const denied = await get(`${url}/health/detailed`)
    expect(denied.status).toBe(401)
    expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="health"')
    expect(denied.body).toEqual({
      statusCode: 401,
      code: 'UPTIMEKIT_HEALTH_UNAUTHORIZED',
      error: 'Unauthorized',
      message: 'a valid bearer token is required',
    })
    const wrong = await get(`${url}/health/detailed`, {
      headers: { authorization: 'Bearer a-token-of-24-characterz' },
    })
    expect(wrong.status).toBe(401)

    const detailed = await get(`${url}/health/detailed`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(detailed.status).toBe(503)
    expect(detailed.body).toEqual({
      status: 'unhealthy',
      timestamp: expect.any(String),
      uptime: expect.any(Number),
      version: '1.2.3',
      environment: 'test',
      memory: {
        heapUsedMB: expect.any(Number),
        heapTotalMB: expect.any(Number),
        rssMB: expect.any(Number),
      },
      checks: {
        db: {
          status: 'fail',
          critical: true,
          durationMs: expect.any(Number),
          error: `query failed on postgres://app:***@127.0.0.1:${dbPort}/app: connect ECONNREFUSED 127.0.0.1:${dbPort}`,
        },
        payments: {
          status: 'fail',
          critical: false,
          durationMs: expect.any(Number),
          error: `GET ${upstream}/ answered 500`,
        },
        audit: {
          status: 'fail',
          critical: true,
          durationMs: expect.any(Number),
          error: 'POST https://audit failed, headers {"Authorization":"***"}',
        },
      },
    })
    const ietf = await get(`${url}/health/detailed`, {
      headers: { ...IETF, authorization: `Bearer ${token}` },
    })
    expect(ietf.text).toContain('"output":"GET ')
    expect(seen[0]).toBe(`Basic ${Buffer.from('svc:s3cret').toString('base64')}`)
    const everything = [
      detailed.text,
      ietf.text,
      (await get(`${url}/health`)).text,
      JSON.stringify(lines),
    ]
    for (const text of everything) expect(text).not.toContain('s3cret')
    expect(lines).toHaveLength(3)
  })

  it('scenario 6: /health/detailed answers 404 when exposeDetails is false', async () => {
    const url = await start(
      createHealth({
        checks: { db: () => Promise.resolve({ secret: 'internal' }) },
        exposeDetails: false,
      }),
    )
    const response = await get(`${url}/health/detailed`)
    expect(response.status).toBe(404)
    expect(response.text).not.toContain('internal')
    expect((await get(`${url}/health`)).status).toBe(200)
  })

  it('scenario 7: a query string and HEAD behave like GET; probes log nothing per hit', async () => {
    const { lines, logger } = recordingLogger()
    const health = createHealth({ checks: { db: async () => {} }, logger })
    const url = await start(health)
    const plain = await get(`${url}/ready`)
    const query = await get(`${url}/ready?probe=k8s`)
    const head = await fetch(`${url}/ready`, { method: 'HEAD' })
    for (const answer of [query, { status: head.status, headers: head.headers }]) {
      expect(answer.status).toBe(plain.status)
      expect(answer.headers.get('content-type')).toBe(JSON_TYPE)
      expect(answer.headers.get('cache-control')).toBe('no-store')
    }
    expect(query.body).toEqual({ status: 'ready' })
    expect(await head.text()).toBe('')
    health.markNotReady('shutting down')
    expect((await get(`${url}/ready?probe=k8s`)).status).toBe(503)
    expect((await fetch(`${url}/ready`, { method: 'HEAD' })).status).toBe(503)
    expect((await get(`${url}/live?probe=k8s`)).status).toBe(200)
    for (let i = 0; i < 20; i++) await get(`${url}/health`)
    expect(lines).toEqual([
      {
        level: 'info',
        details: { reason: 'shutting down' },
        message: 'readiness flipped to not ready',
      },
    ])
  })

  it('IETF /health/detailed shows the heap, disk and event-loop readings as observedValue and observedUnit', async () => {
    const health = createHealth({
      checks: {
        heap: heapCheck(),
        disk: diskCheck({ path: '/', minFreeRatio: 0.000001 }),
        // No delay can fail it: this asserts the reading, not the threshold.
        loop: eventLoopCheck({ maxDelayMs: MAX_TIMER_MS }),
      },
      // One run answers both requests, so the IETF readings can be compared with the details.
      cacheMs: MAX_TIMER_MS,
      timeoutMs: 5000,
      version: '1.2.3',
    })
    onTestFinished(() => health.close())
    const url = await start(health)
    const ietf = await get(`${url}/health/detailed`, { headers: IETF })
    expect(ietf.status).toBe(200)
    expect(ietf.headers.get('content-type')).toBe('application/health+json')
    const plain = await get(`${url}/health/detailed`)
    const details = (plain.body as { checks: Record<string, { details: Record<string, number> }> })
      .checks
    const heap = details.heap?.details ?? {}
    const disk = details.disk?.details ?? {}
    const loop = details.loop?.details ?? {}
    const time = (plain.body as { timestamp: string }).timestamp
    const entry = (observedValue: number, observedUnit: string) => [
      { componentType: 'system', status: 'pass', observedValue, observedUnit, time },
    ]
    const percentOf = (ratio: number | undefined) => Math.round((ratio as number) * 1000) / 10
    expect(ietf.body).toEqual({
      status: 'pass',
      version: '1.2.3',
      checks: {
        'heap:utilization': entry(percentOf(heap.usedRatio), 'percent'),
        'disk:free': entry(percentOf(disk.freeRatio), 'percent'),
        'loop:delay': entry(loop.delayMs as number, 'ms'),
      },
    })
    expect(ietf.body).not.toHaveProperty('output')
    const checks = (ietf.body as { checks: Record<string, [{ observedValue: unknown }]> }).checks
    const value = (key: string) => checks[key]?.[0].observedValue as number
    for (const key of ['heap:utilization', 'disk:free', 'loop:delay']) {
      expect([key, typeof value(key), Number.isFinite(value(key))]).toEqual([key, 'number', true])
    }
    // Percent, not a ratio: the share the details' byte counts give, times 100.
    const heapPercent = ((heap.usedBytes as number) / (heap.limitBytes as number)) * 100
    expect(value('heap:utilization')).toBeGreaterThan(0)
    expect(value('heap:utilization')).toBeLessThanOrEqual(90)
    expect(Math.abs(value('heap:utilization') - heapPercent)).toBeLessThanOrEqual(0.1)
    const diskPercent = ((disk.freeBytes as number) / (disk.totalBytes as number)) * 100
    expect(value('disk:free')).toBeGreaterThan(0)
    expect(value('disk:free')).toBeLessThanOrEqual(100)
    expect(Math.abs(value('disk:free') - diskPercent)).toBeLessThanOrEqual(0.1)
    // Milliseconds past the sampling resolution, from a window that held at least one sample.
    expect(value('loop:delay')).toBeGreaterThanOrEqual(0)
    expect(loop.samples).toBeGreaterThanOrEqual(1)
  })

  it('IETF /health/detailed carries a top-level output on warn (200) and on fail (503)', async () => {
    const warnUrl = await start(
      createHealth({
        checks: {
          db: async () => {},
          heap: { check: heapCheck({ maxUsedRatio: 0.001 }), critical: false },
        },
        version: '1.2.3',
        logger: false,
      }),
    )
    const warn = await get(`${warnUrl}/health/detailed`, { headers: IETF })
    expect(warn.status).toBe(200)
    const time = expect.stringMatching(/^\d{4}-\d\d-\d\dT/)
    expect(warn.body).toEqual({
      status: 'warn',
      output: 'non-critical checks failing: heap',
      version: '1.2.3',
      checks: {
        'db:responseTime': [
          {
            componentType: 'component',
            status: 'pass',
            observedValue: expect.any(Number),
            observedUnit: 'ms',
            time,
          },
        ],
        // The failure still shows its reading, and on the detailed probe the error text.
        'heap:utilization': [
          {
            componentType: 'system',
            status: 'warn',
            observedValue: expect.any(Number),
            observedUnit: 'percent',
            time,
            output: expect.stringMatching(
              /^heap used \d+\.\d MB is \d+\.\d% of the .* \(max 0\.1%\)$/,
            ),
          },
        ],
      },
    })

    const failUrl = await start(
      createHealth({
        checks: {
          disk: diskCheck({ minFreeBytes: Number.MAX_SAFE_INTEGER }),
          payments: { check: () => Promise.reject(new Error('upstream down')), critical: false },
        },
        logger: false,
      }),
    )
    const fail = await get(`${failUrl}/health/detailed`, { headers: IETF })
    expect(fail.status).toBe(503)
    expect(fail.body).toEqual({
      status: 'fail',
      output: 'critical checks failing: disk; non-critical checks failing: payments',
      checks: {
        'disk:free': [
          {
            componentType: 'system',
            status: 'fail',
            observedValue: expect.any(Number),
            observedUnit: 'percent',
            time,
            output: expect.stringMatching(/^\/: \d+ MB free, below \d+ MB$/),
          },
        ],
        'payments:responseTime': [
          {
            componentType: 'component',
            status: 'warn',
            observedValue: expect.any(Number),
            observedUnit: 'ms',
            time,
            output: 'upstream down',
          },
        ],
      },
    })
    // The same report on /health names the same checks in its output.
    const overview = await get(`${failUrl}/health`, { headers: IETF })
    expect((overview.body as { output?: unknown }).output).toBe(
      'critical checks failing: disk; non-critical checks failing: payments',
    )
  })

  it('serves custom paths and not the default ones', async () => {
    const url = await start(createHealth({ paths: { live: '/healthz', ready: '/readyz' } }))
    expect((await get(`${url}/healthz`)).body).toEqual({ status: 'ok' })
    expect((await get(`${url}/readyz`)).body).toEqual({ status: 'ready' })
    expect((await get(`${url}/live`)).status).toBe(404)
  })
})
