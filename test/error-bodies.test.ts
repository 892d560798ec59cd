import type { AddressInfo } from 'node:net'
import express, { type Express } from 'express'
import Fastify, { type FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createHealth } from '@uptimekit/health'
import { healthRouter } from '@uptimekit/health/express'
import { healthPlugin } from '@uptimekit/health/fastify'
import { createMetrics } from '@uptimekit/metrics'
import { metricsHandler } from '@uptimekit/metrics/express'
import { metricsPlugin } from '@uptimekit/metrics/fastify'
import { CircuitBreaker } from '@uptimekit/breaker'
import { breakerGuard } from '@uptimekit/breaker/express'
import { breakerPlugin } from '@uptimekit/breaker/fastify'
import { createBalancer } from '@uptimekit/balancer'
import { proxyHandler } from '@uptimekit/balancer/express'
import { proxyPlugin } from '@uptimekit/balancer/fastify'
import { createOverload } from '@uptimekit/overload'
import { overloadGuard } from '@uptimekit/overload/express'
import { overloadPlugin } from '@uptimekit/overload/fastify'
import { createRedisClient } from '@uptimekit/session'
import { redisSession } from '@uptimekit/session/express'
import { redisSessionPlugin } from '@uptimekit/session/fastify'
import { closedPort } from './support/ports.js'

// Every error an uptimekit package answers has one body, `{ statusCode, code, error, message }`,
// and the same status, headers and bytes on Express and on Fastify.

const TOKEN = 'a-token-of-sixteen-or-more-characters'
const SECRET = 'a-session-secret-of-at-least-32-characters'

interface Mounted {
  express(app: Express): void
  fastify(app: FastifyInstance): Promise<void>
  /** The request that gets the error answer. */
  path: string
  /** Whether the request must hold a slot first, so the one under test is shed. */
  holdFirst?: boolean
}

interface ErrorCase {
  readonly name: string
  readonly statusCode: number
  readonly code: string
  /** Headers the answer carries besides content-type. */
  readonly headers: Readonly<Record<string, string>>
  /** Fresh per framework: each app gets its own package objects. */
  mount(): Mounted | Promise<Mounted>
}

/** A route handler that holds its request until the test is finished with it. */
function holder() {
  const held: (() => void)[] = []
  onTestFinished(() => held.forEach((release) => release()))
  return {
    express: (_req: unknown, res: { end(body: string): void }) =>
      void held.push(() => res.end('ok')),
    fastify: () => new Promise<string>((resolve) => held.push(() => resolve('ok'))),
  }
}

const CASES: ErrorCase[] = [
  {
    name: '@uptimekit/health: /health/detailed without its token',
    statusCode: 401,
    code: 'UPTIMEKIT_HEALTH_UNAUTHORIZED',
    headers: { 'cache-control': 'no-store', 'www-authenticate': 'Bearer realm="health"' },
    mount() {
      const health = createHealth({ token: TOKEN, logger: false })
      onTestFinished(() => health.close())
      return {
        express: (app) => app.use(healthRouter(health)),
        fastify: async (app) => void (await app.register(healthPlugin, { health })),
        path: '/health/detailed',
      }
    },
  },
  {
    name: '@uptimekit/metrics: /metrics without its token',
    statusCode: 401,
    code: 'UPTIMEKIT_METRICS_UNAUTHORIZED',
    headers: { 'www-authenticate': 'Bearer realm="metrics"' },
    mount() {
      const metrics = createMetrics({ registry: new Registry(), token: TOKEN })
      onTestFinished(() => metrics.close())
      return {
        express: (app) => void app.get('/metrics', metricsHandler(metrics)),
        fastify: async (app) =>
          void (await app.register(metricsPlugin, { registry: new Registry(), token: TOKEN })),
        path: '/metrics',
      }
    },
  },
  {
    name: '@uptimekit/breaker: a route guarded by an open circuit',
    statusCode: 503,
    code: 'UPTIMEKIT_CIRCUIT_OPEN',
    // The breaker's default resetTimeoutMs, in seconds.
    headers: { 'cache-control': 'no-store', 'retry-after': '30' },
    mount() {
      const payments = new CircuitBreaker({ name: 'payments', logger: false })
      payments.forceOpen()
      return {
        express: (app) => void app.post('/pay', breakerGuard(payments), (_req, res) => res.end()),
        fastify: async (app) => {
          await app.register(breakerPlugin)
          app.post('/pay', { config: { breaker: payments } }, (_request, reply) =>
            reply.send('paid'),
          )
        },
        path: '/pay',
      }
    },
  },
  {
    name: '@uptimekit/balancer: every upstream refusing connections',
    statusCode: 502,
    code: 'UPTIMEKIT_UPSTREAM_FAILED',
    headers: {},
    async mount() {
      const balancer = createBalancer({
        upstreams: [`http://127.0.0.1:${await closedPort()}`],
        logger: false,
      })
      onTestFinished(() => balancer.close())
      return {
        express: (app) => void app.use('/api', proxyHandler(balancer)),
        fastify: async (app) =>
          void (await app.register(proxyPlugin, { balancer, prefix: '/api' })),
        path: '/api/orders',
      }
    },
  },
  {
    name: '@uptimekit/overload: a request shed while the one slot stays taken',
    statusCode: 503,
    code: 'UPTIMEKIT_OVERLOADED',
    headers: { 'retry-after': '1' },
    mount() {
      // Only the slot decides: the pressure signals are off, and a wait of 300 ms for the loop
      // is far past any a loaded machine makes, so the answer is always queue_timeout's.
      const overload = createOverload({
        concurrency: 1,
        maxQueueWaitMs: 300,
        overloadedQueueWaitMs: 300,
        maxEventLoopDelayMs: false,
        maxEventLoopUtilization: false,
        maxHeapUsedRatio: false,
        logger: false,
      })
      onTestFinished(() => overload.close())
      const hold = holder()
      return {
        express: (app) => {
          app.use(overloadGuard(overload))
          app.get('/work', hold.express)
        },
        fastify: async (app) => {
          await app.register(overloadPlugin, { overload })
          app.get('/work', hold.fastify)
        },
        path: '/work',
        holdFirst: true,
      }
    },
  },
  {
    name: '@uptimekit/session: a session write with Redis down',
    statusCode: 503,
    code: 'UPTIMEKIT_SESSION_UNAVAILABLE',
    headers: { 'cache-control': 'no-store', 'retry-after': '1' },
    async mount() {
      const redis = createRedisClient(`redis://127.0.0.1:${await closedPort()}`, { logger: false })
      redis.on('error', () => undefined)
      onTestFinished(() => redis.disconnect())
      const options = { redis, secret: SECRET, unavailableTimeoutMs: 200, logger: false } as const
      return {
        express: (app) => {
          app.use(redisSession(options))
          app.post('/cart', (req, res) => {
            ;(req.session as unknown as Record<string, unknown>).items = 1
            res.json({ ok: true })
          })
        },
        fastify: async (app) => {
          await app.register(redisSessionPlugin, options)
          app.post('/cart', (request, reply) => {
            request.session.set('items' as never, 1)
            return reply.send({ ok: true })
          })
        },
        path: '/cart',
      }
    },
  },
]

const METHOD: Record<string, string> = { '/pay': 'POST', '/cart': 'POST' }

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
}

async function ask(base: string, mounted: Mounted): Promise<Answer> {
  const url = `${base}${mounted.path}`
  const method = METHOD[mounted.path] ?? 'GET'
  if (mounted.holdFirst === true) {
    const held = fetch(url).then((res) => res.arrayBuffer())
    held.catch(() => undefined)
    // The held request must be in its handler before the one under test arrives.
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const res = await fetch(url, { method, signal: AbortSignal.timeout(5000) })
  const headers: Record<string, string> = {}
  for (const name of ['content-type', 'cache-control', 'retry-after', 'www-authenticate']) {
    const value = res.headers.get(name)
    if (value !== null) headers[name] = value
  }
  return { status: res.status, headers, body: await res.text() }
}

async function throughExpress(errorCase: ErrorCase): Promise<Answer> {
  const mounted = await errorCase.mount()
  const app = express()
  mounted.express(app)
  const server = app.listen(0, '127.0.0.1')
  onTestFinished(() => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  await new Promise((resolve) => server.once('listening', resolve))
  return ask(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, mounted)
}

async function throughFastify(errorCase: ErrorCase): Promise<Answer> {
  const mounted = await errorCase.mount()
  const app = Fastify({ forceCloseConnections: true })
  onTestFinished(() => app.close())
  await mounted.fastify(app)
  return ask(await app.listen({ port: 0, host: '127.0.0.1' }), mounted)
}

describe.each(CASES)('$name', (errorCase) => {
  it('answers the one error body on Express', async () => {
    const answer = await throughExpress(errorCase)
    expect(answer.status).toBe(errorCase.statusCode)
    expect(answer.headers).toEqual({
      'content-type': 'application/json; charset=utf-8',
      ...errorCase.headers,
    })
    const body = JSON.parse(answer.body) as Record<string, unknown>
    expect(Object.keys(body)).toEqual(['statusCode', 'code', 'error', 'message'])
    expect(body).toMatchObject({ statusCode: errorCase.statusCode, code: errorCase.code })
    expect(body.message).toEqual(expect.any(String))
  })

  it('answers the same status, headers and bytes on Fastify as on Express', async () => {
    const [onExpress, onFastify] = [
      await throughExpress(errorCase),
      await throughFastify(errorCase),
    ]
    expect(onFastify).toEqual(onExpress)
  })
})
