import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { watchProcess } from '../../../test/support/process-crashes.js'
import { CheckRunner } from '../src/check-runner.js'
import { CheckFailedError } from '../src/errors.js'
import { createHealth } from '../src/health.js'
import type { HealthCheck, HealthLogger, ResolvedCheck } from '../src/options.js'
import { oddDetails, oddRejections } from './fixtures/odd-values.js'
import { ADAPTERS } from './servers.js'

const ODD = oddRejections()
// What a stack trace or a source location looks like in a body or a log line.
const INTERNALS = /\n\s+at |node_modules|\/src\/|\.ts:\d|\.js:\d/

function recordingLogger() {
  const lines: { level: string; details: object; message: string }[] = []
  const at = (level: string) => (details: object, message: string) => {
    lines.push({ level, details, message })
  }
  const logger: HealthLogger = { info: at('info'), warn: at('warn'), error: at('error') }
  return { lines, logger }
}

function rejecting(value: unknown): HealthCheck {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- odd values are the point
  return () => Promise.reject(value)
}
const throwing =
  (value: unknown): HealthCheck =>
  () => {
    throw value
  }

describe('check() never rejects, whatever a check rejects or throws with', () => {
  it.each(ODD)(
    'a check rejecting with %s fails with a non-empty one-line error',
    async (_name, value) => {
      const process = watchProcess()
      const { lines, logger } = recordingLogger()
      const health = createHealth({
        checks: { rejects: rejecting(value), throws: throwing(value) },
        logger,
      })
      const report = await health.check()
      expect(report.status).toBe('unhealthy')
      for (const result of [report.checks.rejects, report.checks.throws]) {
        expect(result?.status).toBe('fail')
        expect(result?.error).toMatch(/\S/)
        expect(result?.error).not.toMatch(INTERNALS)
        expect(result?.error).not.toContain('\n')
      }
      expect(() => JSON.stringify(report)).not.toThrow()
      expect(lines.map((line) => line.level)).toEqual(['warn', 'warn'])
      expect(process.count()).toBe(0)
    },
  )

  it('names what was rejected for null, undefined, an empty string and an Error with no text', async () => {
    const health = createHealth({
      checks: {
        null: rejecting(null),
        undefined: rejecting(undefined),
        empty: rejecting(''),
        nameless: rejecting(Object.assign(new Error(), { name: '' })),
        blank: rejecting(new Error('   ')),
      },
      logger: false,
    })
    const { checks } = await health.check()
    expect(checks.null?.error).toBe('rejected with null')
    expect(checks.undefined?.error).toBe('rejected with undefined')
    expect(checks.empty?.error).toBe('rejected with an empty string')
    expect(checks.nameless?.error).toBe('failed with an error that has no message')
    expect(checks.blank?.error).toBe('failed with an error that has no message')
  })

  it.each(oddDetails())(
    'a check resolving with %s passes with JSON-safe details',
    async (_name, value) => {
      const health = createHealth({
        checks: {
          resolves: () => Promise.resolve(value),
          failsWith: () => Promise.reject(new CheckFailedError('low', value)),
        },
        logger: false,
      })
      const report = await health.check()
      // A value whose `then` cannot be read (a revoked Proxy) cannot resolve a promise: it rejects.
      expect(['pass', 'fail']).toContain(report.checks.resolves?.status)
      expect(report.checks.failsWith).toMatchObject({ status: 'fail', error: 'low' })
      expect(JSON.parse(JSON.stringify(report))).toEqual(report)
    },
  )

  it('ignores an observe() that throws or returns nonsense, on the IETF probes', async () => {
    const badObserve: HealthCheck = Object.assign(() => Promise.resolve({ used: 1 }), {
      observe: () => {
        throw new Error('observe failed')
      },
    })
    const nonsense: HealthCheck = Object.assign(() => Promise.resolve({ used: 1 }), {
      observe: () => ({ measurement: 'x', value: Number.NaN, unit: 1 }) as never,
    })
    const health = createHealth({ checks: { badObserve, nonsense }, logger: false })
    const answer = await health.answer('detailed', { accept: 'application/health+json' })
    expect(answer.statusCode).toBe(200)
    const body = JSON.parse(answer.body) as { checks: Record<string, unknown> }
    expect(Object.keys(body.checks).sort()).toEqual([
      'badObserve:responseTime',
      'nonsense:responseTime',
    ])
  })

  it('keeps interval mode running through odd rejections without crashing the process', async () => {
    const process = watchProcess()
    let runs = 0
    const health = createHealth({
      checks: Object.fromEntries(
        ODD.map(([, value], i) => {
          const fail = i % 2 === 0 ? rejecting(value) : throwing(value)
          const check: HealthCheck = (signal) => {
            if (i === 0) runs++
            return fail(signal)
          }
          return [`c${i}`, check]
        }),
      ),
      intervalMs: 10,
      logger: false,
    })
    onTestFinished(() => health.close())
    const deadline = Date.now() + 10_000
    while (runs < 5 && Date.now() < deadline) await sleep(10)
    expect(runs).toBeGreaterThanOrEqual(5)
    expect((await health.check()).status).toBe('unhealthy')
    expect(process.count()).toBe(0)
  })
})

describe.each(ADAPTERS)('%s adapter: probes over odd rejections', (_name, start) => {
  it('answers every probe with a clear status and JSON body, never a stack trace or a path', async () => {
    const process = watchProcess()
    const checks = Object.fromEntries(ODD.map(([, value], i) => [`c${i}`, rejecting(value)]))
    const url = await start(createHealth({ checks, logger: false }))
    for (const path of ['/live', '/ready', '/health', '/health/detailed', '/startup']) {
      for (const accept of ['application/json', 'application/health+json']) {
        const response = await fetch(`${url}${path}`, { headers: { accept } })
        const text = await response.text()
        expect(response.status, path).toBe(path === '/live' || path === '/startup' ? 200 : 503)
        expect(() => JSON.parse(text) as unknown, path).not.toThrow()
        expect(text, path).not.toMatch(INTERNALS)
      }
    }
    expect(process.count()).toBe(0)
  })
})

describe('redaction of every common secret form, in bodies and logs', () => {
  // Each secret carries a marker, so one search over everything proves none got out.
  const FORMS: [name: string, error: string][] = [
    ['an env-style assignment', 'config DB_PASSWORD=MARK-env-1 rejected'],
    [
      'access_token in a query string',
      'GET https://api/cb?code=1&access_token=MARK-query-2&x=1 failed',
    ],
    ['client_secret=', 'oauth client_secret=MARK-client-3 refused'],
    ['aws_secret_access_key=', 'aws_secret_access_key = MARK-aws-4 invalid'],
    ['a URL password holding /', 'connect postgres://app:MARK/slash-5@db:5432/app failed'],
    ['a URL password holding #', 'connect redis://app:MARK#hash-6@cache:6379 failed'],
    ['a URL password holding @', 'connect mongodb://app:MARK@at-7@mongo:27017/app failed'],
    ['a JSON secret field', 'upstream said {"api_key":"MARK-json-8","ok":false}'],
    ['a bearer header', 'headers Authorization: Bearer MARK-bearer-9'],
  ]

  it.each(FORMS)('%s is masked in the check error', async (_name, error) => {
    const health = createHealth({ checks: { db: rejecting(new Error(error)) }, logger: false })
    const { checks } = await health.check()
    expect(checks.db?.error).toContain('***')
    expect(checks.db?.error).not.toContain('MARK')
  })

  it('masks details with a password or token key whatever their value, nested too', async () => {
    const health = createHealth({
      checks: {
        db: () =>
          Promise.resolve({
            password: 'MARK-a',
            token: { nested: 'MARK-b' },
            connection: { host: 'db', Password: 'MARK-c', authToken: 42 },
            list: [{ secret: 'MARK-d' }],
          }),
        failing: () =>
          Promise.reject(new CheckFailedError('low', { apiKey: 'MARK-e', reading: 3 })),
      },
      logger: false,
    })
    const { checks } = await health.check()
    expect(checks.db?.details).toEqual({
      password: '***',
      token: '***',
      connection: { host: 'db', Password: '***', authToken: '***' },
      list: [{ secret: '***' }],
    })
    expect(checks.failing?.details).toEqual({ apiKey: '***', reading: 3 })
  })

  it.each(ADAPTERS)(
    '%s: no secret form reaches /health/detailed, /health, /ready or a warn log line',
    async (_name, start) => {
      const { lines, logger } = recordingLogger()
      const stderr: string[] = []
      const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
        stderr.push(String(chunk))
        return true
      })
      const checks: Record<string, HealthCheck> = Object.fromEntries(
        FORMS.map(([, error], i) => [`f${i}`, rejecting(new Error(error))]),
      )
      checks.details = () => Promise.resolve({ password: 'MARK-p', token: 'MARK-t' })
      const token = 'MARK-the-token-itself'
      const withLogger = createHealth({ checks, token, logger })
      // The default logger writes JSON lines to stderr through the same redactor.
      const withDefault = createHealth({ checks, token })
      const bodies: string[] = []
      for (const health of [withLogger, withDefault]) {
        const url = await start(health)
        for (const path of ['/ready', '/health', '/health/detailed']) {
          for (const accept of ['application/json', 'application/health+json']) {
            const response = await fetch(`${url}${path}`, {
              headers: { accept, authorization: `Bearer ${token}` },
            })
            bodies.push(await response.text())
          }
        }
      }
      write.mockRestore()
      expect(bodies.join('\n')).toContain('***')
      expect(lines.filter((line) => line.level === 'warn')).toHaveLength(FORMS.length)
      expect(stderr.filter((line) => line.includes('"level":"warn"'))).toHaveLength(FORMS.length)
      for (const text of [...bodies, JSON.stringify(lines), ...stderr]) {
        expect(text).not.toContain('MARK')
      }
    },
  )
})

const hungCheck = (timeoutMs: number): { resolved: ResolvedCheck; calls: () => number } => {
  let calls = 0
  const check: HealthCheck = () => {
    calls++
    return new Promise(() => {})
  }
  return {
    resolved: { name: 'hung', check, critical: true, timeoutMs, componentType: 'component' },
    calls: () => calls,
  }
}

describe('a check that never settles holds a bounded amount of memory', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('keeps no run waiting once its deadline passed, and calls the check once', async () => {
    const { resolved, calls } = hungCheck(30)
    const runner = new CheckRunner(resolved)
    const concurrent = Array.from({ length: 50 }, () => runner.run())
    expect(runner.waiting).toBe(50)
    const results = await Promise.all(concurrent)
    expect(results.every((result) => result.timedOut === true)).toBe(true)
    expect(runner.waiting).toBe(0)
    for (let i = 0; i < 2000; i++) {
      const result = await runner.run()
      expect(result.timedOut).toBe(true)
      expect(runner.waiting).toBe(0)
    }
    expect(calls()).toBe(1)
  })

  it('does not grow the heap over 100,000 runs of a hung check', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const { resolved } = hungCheck(1)
    const runner = new CheckRunner(resolved)
    await runner.run()
    const runs = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await runner.run()
    }
    await runs(1000)
    gc()
    const before = process.memoryUsage().heapUsed
    await runs(100_000)
    gc()
    const grown = process.memoryUsage().heapUsed - before
    // Keeping ~300 bytes per run (a reaction on the hung promise) would grow it by ~30 MB.
    expect(grown).toBeLessThan(8 * 1024 * 1024)
    expect(runner.waiting).toBe(0)
  })
})

describe('durations follow a clock that never steps', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('neither a wall clock step back nor forward changes the cache or a check duration', async () => {
    let calls = 0
    const health = createHealth({
      checks: {
        db: async () => {
          calls++
          vi.setSystemTime(Date.now() + 60_000)
          await sleep(5)
        },
      },
      cacheMs: 300,
      logger: false,
    })
    vi.useFakeTimers({ toFake: ['Date'] })
    const first = await health.check()
    expect(first.checks.db?.durationMs).toBeLessThan(1000)
    vi.setSystemTime(Date.now() - 3_600_000)
    await health.check()
    vi.setSystemTime(Date.now() + 7_200_000)
    await health.check()
    expect(calls).toBe(1)
    await sleep(400)
    const later = await health.check()
    expect(calls).toBe(2)
    expect(later.checks.db?.durationMs).toBeLessThan(1000)
  })
})
