import { request } from 'node:http'
import { connect } from 'node:http2'
import express from 'express'
import Fastify from 'fastify'
import * as promClient from 'prom-client'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { expressMetrics, metricsHandler, metricsMiddleware } from '../src/express.js'
import defaultPlugin, { metricsPlugin } from '../src/fastify.js'
import { createMetrics } from '../src/metrics.js'
import { routeCounts, samplesOf, valueOf } from './prom-text.js'
import { listenExpress } from './servers.js'

async function listen(app: express.Express): Promise<string> {
  return (await listenExpress(app)).url
}

async function get(url: string, headers: Record<string, string> = {}): Promise<string> {
  return (await fetch(url, { headers })).text()
}

describe('Express route templates', () => {
  it('tells apart one router mounted under two templates', async () => {
    const app = express()
    app.use(expressMetrics())
    const shared = express.Router()
    shared.get('/items/:id', (_req, res) => {
      res.json({})
    })
    app.use('/shops/:shop', shared)
    app.use('/brands/:brand/outlet', shared)
    const url = await listen(app)
    await get(`${url}/shops/1/items/2`)
    await get(`${url}/brands/acme/outlet/items/3`)
    await get(`${url}/brands/acme/outlet/items/4`)
    const text = await get(`${url}/metrics`)
    expect(samplesOf(text, 'http_requests_total').map((s) => [s.labels.route, s.value])).toEqual([
      ['/shops/:shop/items/:id', 1],
      ['/brands/:brand/outlet/items/:id', 2],
    ])
  })

  it('lets two instances measure the same responses, each counting them once', async () => {
    const app = express()
    const outer = createMetrics({ defaultMetrics: false })
    const inner = createMetrics({ defaultMetrics: false })
    app.use(metricsMiddleware(outer))
    app.use(metricsMiddleware(inner))
    app.get('/users/:id', (_req, res) => {
      res.json({})
    })
    const url = await listen(app)
    await get(`${url}/users/1`)
    await get(`${url}/users/2`)
    for (const metrics of [outer, inner]) {
      const text = await metrics.registry.metrics()
      expect(samplesOf(text, 'http_requests_total').map((s) => [s.labels.route, s.value])).toEqual([
        ['/users/:id', 2],
      ])
      expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
    }
  })

  it('includes the mount path of a sub-app', async () => {
    const app = express()
    app.use(expressMetrics())
    const admin = express()
    admin.get('/users/:id', (_req, res) => {
      res.json({})
    })
    app.use('/admin', admin)
    const url = await listen(app)
    await get(`${url}/admin/users/9`)
    const text = await get(`${url}/metrics`)
    expect(samplesOf(text, 'http_requests_total').map((s) => [s.labels.route, s.value])).toEqual([
      ['/admin/users/:id', 1],
    ])
  })

  it("gives a sub-app mounted inside a router its full template, apart from the app's own route", async () => {
    const app = express()
    app.use(expressMetrics({ defaultMetrics: false }))
    app.get('/x', (_req, res) => {
      res.json({ own: true })
    })
    const tenant = express()
    tenant.get('/x', (_req, res) => {
      res.json({ tenant: true })
    })
    const router = express.Router()
    router.use('/t/:tenant', tenant)
    app.use('/api', router)
    const url = await listen(app)
    await get(`${url}/x`)
    await get(`${url}/api/t/acme/x`)
    await get(`${url}/api/t/initech/x`)
    const text = await get(`${url}/metrics`)
    expect(routeCounts(text)).toEqual([
      ['/x', '200', 1],
      ['/api/t/:tenant/x', '200', 2],
    ])
  })

  it('counts a request whose client left during an earlier middleware once, as 499', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    const app = express()
    let entered!: () => void
    const inMiddleware = new Promise<void>((resolve) => (entered = resolve))
    // Hands the request on only once its client has gone, as a slow auth check would.
    app.use((_req, res, next) => {
      entered()
      res.once('close', () => next())
    })
    app.use(metricsMiddleware(metrics))
    app.get('/users/:id', (_req, res) => {
      res.json({})
    })
    const url = await listen(app)
    const client = request(`${url}/users/1`)
    client.on('error', () => {})
    client.end()
    await inMiddleware
    client.destroy()
    await vi.waitFor(async () => {
      const text = await metrics.registry.metrics()
      expect(routeCounts(text)).toEqual([['#unmatched', '499', 1]])
    })
    expect(valueOf(await metrics.registry.metrics(), 'http_requests_in_flight', {})).toBe(0)
  })

  it('serves metricsPath from expressMetrics with its token', async () => {
    const app = express()
    app.use(expressMetrics({ metricsPath: '/internal/metrics', token: 'x'.repeat(16) }))
    const url = await listen(app)
    expect((await fetch(`${url}/internal/metrics`)).status).toBe(401)
    const text = await get(`${url}/internal/metrics`, { authorization: `Bearer ${'x'.repeat(16)}` })
    expect(text).toContain('# TYPE http_requests_total counter')
  })

  it('serves metricsPath from expressMetrics for GET and HEAD on that exact path only', async () => {
    const app = express()
    app.use(expressMetrics({ defaultMetrics: false }))
    app.post('/metrics', (_req, res) => {
      res.status(201).json({ posted: true })
    })
    const url = await listen(app)
    expect((await fetch(`${url}/metrics?debug=1`)).headers.get('content-type')).toMatch(
      /^text\/plain/,
    )
    const head = await fetch(`${url}/metrics`, { method: 'HEAD' })
    expect([head.status, await head.text()]).toEqual([200, ''])
    expect((await fetch(`${url}/metrics/extra`)).status).toBe(404)
    expect((await fetch(`${url}/metricsx`)).status).toBe(404)
    expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(201)
    const text = await get(`${url}/metrics`)
    expect(
      samplesOf(text, 'http_requests_total').map((s) => [s.labels.method, s.labels.route, s.value]),
    ).toEqual([['GET', '#unmatched', 2]]) // POST /metrics went to the app, unmeasured like GET
  })
})

describe('Express adapters given options', () => {
  it('refuse options without a registry, which the middleware and the handler would not share', () => {
    const message =
      '`registry` must be given when metricsHandler takes options rather than a createMetrics() instance, so that metricsMiddleware and metricsHandler share one registry; or pass both the same createMetrics() instance (got undefined)'
    expect(() => metricsHandler({ token: 'a-long-scrape-token-1234' })).toThrow(message)
    expect(() => metricsMiddleware()).toThrow(
      message.replace('when metricsHandler', 'when metricsMiddleware'),
    )
  })

  it('share one registry when both are given it', async () => {
    const registry = new promClient.Registry()
    const options = { registry, defaultMetrics: false }
    const app = express()
    app.use(metricsMiddleware(options))
    app.get('/metrics', metricsHandler(options))
    app.get('/users/:id', (_req, res) => {
      res.json({})
    })
    const url = await listen(app)
    await get(`${url}/users/1`)
    expect(routeCounts(await get(`${url}/metrics`))).toEqual([['/users/:id', '200', 1]])
    expect(Object.getOwnPropertySymbols(options)).toEqual([])
  })

  it('reject an unknown option naming the closest real one', () => {
    expect(() => expressMetrics({ tokne: 'a-long-scrape-token-1234' } as never)).toThrow(
      /^`tokne` is not an option of createMetrics; did you mean `token`\?/,
    )
  })
})

describe('Fastify plugin', () => {
  it.each([
    [
      { prefix: '/ops' },
      '`prefix` must be empty or match [a-zA-Z_:][a-zA-Z0-9_:]*: it prefixes metric names, not routes (`metricsPath` moves /metrics) (got "/ops")',
    ],
    [
      { tokne: 'a-long-scrape-token-1234' },
      /^`tokne` is not an option of createMetrics; did you mean `token`\?/,
    ],
    [
      { metrics: createMetrics({ defaultMetrics: false }), token: 'a-long-scrape-token-1234' },
      '`token` is set on createMetrics, not beside `metrics` (got "a-long-scrape-token-1234")',
    ],
    [{ metrics: {} }, '`metrics` must be what createMetrics() returns (got an object)'],
  ])('rejects register() and ready() for %j, and the process lives', async (options, message) => {
    const app = Fastify()
    onTestFinished(() => app.close())
    await expect(app.register(metricsPlugin, options as never)).rejects.toThrow(message)
    const again = Fastify()
    onTestFinished(() => again.close())
    void again.register(metricsPlugin, options as never)
    await expect(again.ready()).rejects.toThrow(message)
  })

  it('is exported named and default, and takes plain options', async () => {
    expect(defaultPlugin).toBe(metricsPlugin)
    const app = Fastify()
    onTestFinished(() => app.close())
    await app.register(metricsPlugin, { prefix: 'svc_', defaultMetrics: false })
    app.get('/ping', () => ({ ok: true }))
    await app.inject('/ping')
    const text = (await app.inject('/metrics')).body
    expect(
      samplesOf(text, 'svc_http_requests_total').map((s) => [s.labels.route, s.value]),
    ).toEqual([['/ping', 1]])
  })

  it('records the real status codes of injected requests', async () => {
    const app = Fastify()
    onTestFinished(() => app.close())
    await app.register(metricsPlugin, { defaultMetrics: false, logger: false })
    app.get('/users/:id', (req) => ({ id: (req.params as { id: string }).id }))
    app.get('/boom', () => {
      throw new Error('boom')
    })
    app.get('/teapot', (_req, reply) => reply.code(418).send({ short: 'and stout' }))
    expect((await app.inject('/users/1')).statusCode).toBe(200)
    expect((await app.inject('/users/2')).statusCode).toBe(200)
    expect((await app.inject('/nope')).statusCode).toBe(404)
    expect((await app.inject('/boom')).statusCode).toBe(500)
    expect((await app.inject('/teapot')).statusCode).toBe(418)
    const text = (await app.inject('/metrics')).body
    expect(routeCounts(text)).toEqual([
      ['/users/:id', '200', 2],
      ['#unmatched', '404', 1],
      ['/boom', '500', 1],
      ['/teapot', '418', 1],
    ])
    expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
  })

  it('measures HTTP/2 requests, whose ends Node reports only to the response', async () => {
    const app = Fastify({ http2: true })
    await app.register(metricsPlugin, { defaultMetrics: false })
    app.get('/ping', () => ({ ok: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    const client = connect(`http://127.0.0.1:${port}`)
    onTestFinished(async () => {
      client.close()
      await app.close()
    })
    const ask = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const stream = client.request({ ':path': path })
        let body = ''
        stream.setEncoding('utf8')
        stream.on('data', (chunk: string) => (body += chunk))
        stream.on('end', () => resolve(body))
        stream.on('error', reject)
        stream.end()
      })
    await Promise.all([ask('/ping'), ask('/ping'), ask('/ping')])
    const text = await ask('/metrics')
    expect(routeCounts(text)).toEqual([['/ping', '200', 3]])
    expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
  })
})
