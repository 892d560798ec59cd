import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import {
  type ExampleProcess,
  FRAMEWORKS,
  runExample,
  startExample,
} from './support/example-process.js'
import { createPaymentsUpstream, type PaymentsUpstream } from './support/example-modules.js'
import { closedPort } from './support/ports.js'
import { needService, SERVICES } from './support/services.js'

// Both example services run as child processes with real Redis and Postgres,
// and answer the same requests the same way.

const redisUp = await needService('redis')
const postgresUp = await needService('postgres')

const SECRET = 'e2e-examples-session-secret-0123456789abcdef'
const ADA = { id: 1, username: 'ada', name: 'Ada Lovelace', email: 'ada@example.com' }
const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

/** The value of the named metric series (labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const labelText = line.slice(name.length + 1, line.lastIndexOf('}'))
    const found: Record<string, string> = {}
    for (const [, key, value] of labelText.matchAll(/(\w+)="([^"]*)"/g)) found[key!] = value!
    const matches = Object.entries(labels).every(([key, value]) => found[key] === value)
    if (matches && Object.keys(found).length === Object.keys(labels).length) {
      return Number(line.slice(line.lastIndexOf(' ') + 1))
    }
  }
  return undefined
}

describe.runIf(redisUp && postgresUp).each(FRAMEWORKS)('the %s example', (framework) => {
  describe('with Redis and Postgres up', () => {
    let upstream: PaymentsUpstream
    let app: ExampleProcess
    let url = ''

    beforeAll(async () => {
      upstream = createPaymentsUpstream()
      const paymentsUrl = await upstream.listen(0, '127.0.0.1')
      app = await startExample(framework, await closedPort(), {
        INSTANCE_ID: `${framework}-under-test`,
        SESSION_STORE: 'redis',
        REDIS_URL: SERVICES.redis.url,
        DATABASE_URL: SERVICES.postgres.url,
        SESSION_SECRET: SECRET,
        SESSION_PREFIX: `e2e-examples-${framework}-${process.pid}:`,
        PAYMENTS_URL: paymentsUrl,
        BREAKER_FAILURE_THRESHOLD: '3',
        BREAKER_RESET_TIMEOUT_MS: '300',
        HEALTH_CACHE_MS: '0',
        DRAIN_DELAY_MS: '200',
        SHUTDOWN_TIMEOUT_MS: '5000',
      })
      url = app.url
    })

    afterAll(async () => {
      await app?.stop('SIGKILL')
      await upstream?.close()
    })

    it('serves users from Postgres, with 404 and 400 for missing and malformed ids', async () => {
      const found = await fetch(`${url}/api/users/1`)
      expect(found.status).toBe(200)
      expect(found.headers.get('x-served-by')).toBe(`${framework}-under-test`)
      expect(await found.json()).toEqual(ADA)
      const missing = await fetch(`${url}/api/users/99`)
      expect([missing.status, await missing.json()]).toEqual([404, { error: 'user 99 not found' }])
      const malformed = await fetch(`${url}/api/users/1x`)
      expect([malformed.status, await malformed.json()]).toEqual([
        400,
        { error: 'id must be a positive integer (got "1x")' },
      ])
    })

    it('logs in, shows the profile from the Redis session, and logs out', async () => {
      const wrong = await fetch(`${url}/api/login`, json({ username: 'ada', password: 'nope' }))
      expect([wrong.status, await wrong.json()]).toEqual([
        401,
        { error: 'wrong username or password' },
      ])
      expect(wrong.headers.get('set-cookie')).toBeNull()

      const login = await fetch(
        `${url}/api/login`,
        json({ username: 'ada', password: 'analytical-engine' }),
      )
      expect(login.status).toBe(200)
      const session = (await login.json()) as { user: unknown; loginAt: string }
      expect(session).toEqual({ user: ADA, loginAt: expect.any(String) })
      const setCookie = login.headers.get('set-cookie')!
      expect(setCookie).toMatch(
        /^connect\.sid=s(%3A|:)[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/,
      )
      const cookie = setCookie.split(';')[0]!

      const profile = await fetch(`${url}/api/profile`, { headers: { cookie } })
      expect([profile.status, await profile.json()]).toEqual([200, session])
      const logout = await fetch(`${url}/api/logout`, { method: 'POST', headers: { cookie } })
      expect(logout.status).toBe(204)
      const after = await fetch(`${url}/api/profile`, { headers: { cookie } })
      expect([after.status, await after.json()]).toEqual([401, { error: 'not logged in' }])
    })

    it('answers a body that is not JSON with 400 and an unknown route with 404', async () => {
      const bad = await fetch(`${url}/api/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"amount":',
      })
      expect([bad.status, await bad.json()]).toEqual([400, { error: 'the body is not valid JSON' }])
      const unknown = await fetch(`${url}/api/nothing?x=1`)
      expect([unknown.status, await unknown.json()]).toEqual([
        404,
        { error: 'no route GET /api/nothing' },
      ])
    })

    it('opens the payments breaker when the upstream fails, degrades /health, and recovers', async () => {
      onTestFinished(() => void upstream.setFaults({ failureRate: 0 }))
      const pay = () => fetch(`${url}/api/payments`, json({ amount: 1250, currency: 'EUR' }))
      const paid = await pay()
      expect(paid.status).toBe(201)
      expect(await paid.json()).toEqual({
        id: expect.any(String),
        amount: 1250,
        currency: 'EUR',
        status: 'captured',
      })

      upstream.setFaults({ failureRate: 1 })
      for (let i = 0; i < 3; i++) {
        const failed = await pay()
        expect([failed.status, await failed.json()]).toEqual([
          502,
          { error: 'payment provider answered 503' },
        ])
      }
      const rejected = await pay()
      const openMetrics = await (await fetch(`${url}/metrics`)).text()
      expect(
        sample(openMetrics, 'circuit_breaker_state', { breaker: 'payments', state: 'open' }),
      ).toBe(1)
      expect(
        sample(openMetrics, 'circuit_breaker_state', { breaker: 'payments', state: 'closed' }),
      ).toBe(0)
      expect(
        sample(openMetrics, 'health_check_status', { check: 'payments', critical: 'false' }),
      ).toBe(0)
      expect(sample(openMetrics, 'health_check_status', { check: 'redis', critical: 'true' })).toBe(
        1,
      )
      expect(sample(openMetrics, 'health_status', { status: 'degraded' })).toBe(1)
      expect(rejected.status).toBe(503)
      expect(rejected.headers.get('retry-after')).toBe('1')
      expect(await rejected.json()).toEqual({
        statusCode: 503,
        code: 'UPTIMEKIT_CIRCUIT_OPEN',
        error: 'Service Unavailable',
        message: 'circuit "payments" is open: next attempt in 1 s',
      })

      const health = await fetch(`${url}/health`)
      expect(health.status).toBe(200)
      const report = (await health.json()) as {
        status: string
        checks: Record<string, { status: string; critical: boolean }>
      }
      expect(report.status).toBe('degraded')
      expect(Object.keys(report.checks).sort()).toEqual([
        'disk',
        'eventLoop',
        'heap',
        'payments',
        'paymentsBreaker',
        'postgres',
        'redis',
      ])
      expect(report.checks.payments).toMatchObject({ status: 'fail', critical: false })
      expect(report.checks.paymentsBreaker).toMatchObject({ status: 'fail', critical: false })
      expect(report.checks.redis).toMatchObject({ status: 'pass', critical: true })
      expect(report.checks.postgres).toMatchObject({ status: 'pass', critical: true })
      expect((await fetch(`${url}/ready`)).status).toBe(200)

      upstream.setFaults({ failureRate: 0 })
      await new Promise((resolve) => setTimeout(resolve, 700))
      expect((await pay()).status).toBe(201)
      expect((await pay()).status).toBe(201)
      const healed = (await (await fetch(`${url}/health`)).json()) as { status: string }
      expect(healed.status).toBe('healthy')
      const closedMetrics = await (await fetch(`${url}/metrics`)).text()
      expect(
        sample(closedMetrics, 'circuit_breaker_state', { breaker: 'payments', state: 'closed' }),
      ).toBe(1)
      const transition = (from: string, to: string) =>
        sample(closedMetrics, 'circuit_breaker_transitions_total', {
          breaker: 'payments',
          from,
          to,
        })
      expect([
        transition('closed', 'open'),
        transition('open', 'half_open'),
        transition('half_open', 'closed'),
      ]).toEqual([1, 1, 1])
    })

    it('counts requests by route template on /metrics', async () => {
      const before = await (await fetch(`${url}/metrics`)).text()
      const labels = { method: 'GET', route: '/api/users/:id', status_code: '200' }
      const start = sample(before, 'http_requests_total', labels) ?? 0
      for (const id of [1, 2, 3, 1, 2]) await fetch(`${url}/api/users/${id}`)
      const after = await (await fetch(`${url}/metrics`)).text()
      expect(sample(after, 'http_requests_total', labels)).toBe(start + 5)
    })

    it('drains on SIGTERM, then closes Redis and Postgres after the last response', async () => {
      const slow = fetch(`${url}/api/users/2`)
      const exit = await app.stop('SIGTERM')
      expect((await slow).status).toBe(200)
      expect(exit).toEqual({ code: 0, signal: null })
      const hooks = [...app.output().matchAll(/close hook done \{"hook":"([\w-]+)"/g)].map(
        (m) => m[1],
      )
      const expected = ['redis', 'postgres', 'health']
      expect(hooks).toEqual(framework === 'fastify' ? ['fastify', ...expected] : expected)
      expect(app.output()).toContain('"result":"drained","exitCode":0')
    })
  })

  it('exits 1 at start listing every bad variable', async () => {
    const { code, output } = await runExample(framework, {
      PORT: 'eighty',
      SESSION_SECRET: 'short',
      DATABASE_URL: 'mysql://app:s3cret@db/app',
      DRAIN_DELAY_MS: '9000',
      SHUTDOWN_TIMEOUT_MS: '5000',
    })
    expect(code).toBe(1)
    expect(output).toBe(
      `${framework} example: invalid configuration (4 problems):\n` +
        '  - PORT must be an integer from 0 to 65535 (got "eighty")\n' +
        '  - SESSION_SECRET must be at least 32 characters (got 5 characters)\n' +
        '  - DATABASE_URL must use postgres:// or postgresql:// (got mysql://…)\n' +
        '  - SHUTDOWN_TIMEOUT_MS must be greater than DRAIN_DELAY_MS, or in-flight requests get no time after the drain (got 5000 <= 9000)\n',
    )
  })

  it('refuses in-memory sessions when NODE_ENV=production', async () => {
    const { code, output } = await runExample(framework, {
      NODE_ENV: 'production',
      SESSION_STORE: 'memory',
      REDIS_URL: SERVICES.redis.url,
      SESSION_SECRET: SECRET,
      PAYMENTS_URL: 'http://127.0.0.1:9',
    })
    expect(code).toBe(1)
    expect(output).toContain('SESSION_STORE must be redis when NODE_ENV=production')
  })

  it('falls back to in-memory sessions, saying so, when Redis is unreachable outside production', async () => {
    const app = await startExample(framework, await closedPort(), {
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
      DRAIN_DELAY_MS: '0',
    })
    onTestFinished(() => app.stop('SIGKILL').then(() => undefined))
    expect(app.output()).toContain('Redis is not reachable: sessions are kept IN MEMORY')
    const listed = [...app.output().matchAll(/^ {2}(GET|POST) +(http:\/\/\S+)/gm)].map(
      (m) => `${m[1]} ${m[2]!.slice(app.url.length)}`,
    )
    expect(listed).toEqual([
      'GET /api/users/1',
      'POST /api/login',
      'GET /api/profile',
      'POST /api/logout',
      'POST /api/payments',
      'GET /live',
      'GET /ready',
      'GET /startup',
      'GET /health',
      'GET /health/detailed',
      'GET /metrics',
    ])
    expect(app.output()).toContain(
      'sessions:          in memory (Redis not reachable at redis://127.0.0.1:',
    )
    const login = await fetch(
      `${app.url}/api/login`,
      json({ username: 'ada', password: 'analytical-engine' }),
    )
    expect(login.status).toBe(200)
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!
    const profile = await fetch(`${app.url}/api/profile`, { headers: { cookie } })
    expect(profile.status).toBe(200)
    expect(((await profile.json()) as { user: unknown }).user).toEqual(ADA)
    const health = (await (await fetch(`${app.url}/health`)).json()) as { checks: object }
    expect(Object.keys(health.checks)).not.toContain('redis')
  })

  it('keeps Redis in production when it is down: not ready, session routes 503, the rest 200', async () => {
    const upstream = createPaymentsUpstream()
    onTestFinished(() => upstream.close())
    const app = await startExample(
      framework,
      await closedPort(),
      {
        NODE_ENV: 'production',
        REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
        SESSION_SECRET: SECRET,
        PAYMENTS_URL: await upstream.listen(0, '127.0.0.1'),
        DRAIN_DELAY_MS: '0',
      },
      { upPath: '/live' },
    )
    onTestFinished(() => app.stop('SIGKILL').then(() => undefined))
    expect(app.output()).not.toContain('IN MEMORY')
    expect((await fetch(`${app.url}/ready`)).status).toBe(503)
    expect((await fetch(`${app.url}/api/users/1`)).status).toBe(200)
    const login = await fetch(
      `${app.url}/api/login`,
      json({ username: 'ada', password: 'analytical-engine' }),
    )
    const unavailable = {
      statusCode: 503,
      code: 'UPTIMEKIT_SESSION_UNAVAILABLE',
      error: 'Service Unavailable',
      message: 'The session store is unavailable; retry in 1 s',
    }
    expect([login.status, login.headers.get('retry-after'), await login.json()]).toEqual([
      503,
      '1',
      unavailable,
    ])
    // A validly signed cookie makes the session middleware itself go to Redis.
    const sid = 'a-session-id-that-redis-would-hold'
    const signature = createHmac('sha256', SECRET).update(sid).digest('base64').replace(/=+$/, '')
    const profile = await fetch(`${app.url}/api/profile`, {
      headers: { cookie: `connect.sid=s%3A${sid}.${encodeURIComponent(signature)}` },
    })
    expect([profile.status, profile.headers.get('retry-after'), await profile.json()]).toEqual([
      503,
      '1',
      unavailable,
    ])
  })
})
