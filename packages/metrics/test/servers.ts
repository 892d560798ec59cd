import { once } from 'node:events'
import type { Server } from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import { onTestFinished } from 'vitest'
import { createMetrics, type Metrics } from '../src/metrics.js'
import type { MetricsOptions } from '../src/options.js'
import { metricsHandler, metricsMiddleware } from '../src/express.js'
import { metricsPlugin } from '../src/fastify.js'

/** A started test app: its base URL and the metrics instance behind it. */
export interface Started {
  url: string
  metrics: Metrics
  server: Server
}

/** Starts an app with the shared test routes; the same routes in both frameworks. */
export type Start = (options?: MetricsOptions) => Promise<Started>

/** How long `/wait` takes to answer: long enough for a pipelined request to arrive behind it. */
const WAIT_MS = 50

function hold(res: { write(chunk: string): unknown; on(event: 'close', fn: () => void): unknown }) {
  // Sends part of a body and never finishes it: the client aborts mid-response.
  res.write('{"partial":')
}

/** Listens on a free port and closes the server (connections included) after the test. */
export async function listenExpress(
  app: express.Express,
): Promise<{ url: string; server: Server }> {
  const server = app.listen(0, '127.0.0.1')
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  )
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server }
}

export const startExpress: Start = async (options = {}) => {
  const metrics = createMetrics(options)
  const app = express()
  app.use(metricsMiddleware(metrics))
  app.get('/metrics', metricsHandler(metrics))
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id })
  })
  app.get('/live', (_req, res) => {
    res.json({ status: 'ok' })
  })
  app.get('/boom', () => {
    throw new Error('boom')
  })
  app.get('/async-boom', async () => {
    await Promise.resolve()
    throw new Error('async boom')
  })
  app.get('/error-500', (_req, res) => {
    res.status(500).json({ error: 'failed' })
  })
  app.get('/slow', (_req, res) => {
    res.status(200).type('json')
    hold(res)
  })
  app.get('/wait', (_req, res) => {
    setTimeout(() => res.json({ waited: true }), WAIT_MS)
  })
  const members = express.Router({ mergeParams: true })
  members.get('/members/:member', (req, res) => {
    res.json({ org: (req.params as Record<string, string>).org, member: req.params.member })
  })
  app.use('/api/orgs/:org', members)
  const items = express.Router()
  items.get('/:itemId', (req, res) => {
    res.json({ item: req.params.itemId })
  })
  const v1 = express.Router()
  v1.use('/items', items)
  app.use('/api/v1', v1)
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' })
  })
  const { url, server } = await listenExpress(app)
  metrics.observeServer(server)
  return { url, metrics, server }
}

export const startFastify: Start = async (options = {}) => {
  const metrics = createMetrics(options)
  const app = Fastify()
  onTestFinished(async () => {
    const closing = app.close()
    app.server.closeAllConnections()
    await closing
  })
  await app.register(metricsPlugin, { metrics })
  app.get('/users/:id', (req) => ({ id: (req.params as { id: string }).id }))
  app.get('/live', () => ({ status: 'ok' }))
  app.get('/boom', () => {
    throw new Error('boom')
  })
  app.get('/async-boom', async () => {
    await Promise.resolve()
    throw new Error('async boom')
  })
  app.get('/error-500', (_req, reply) => reply.code(500).send({ error: 'failed' }))
  app.get('/slow', (_req, reply) => {
    reply.raw.writeHead(200, { 'content-type': 'application/json' })
    hold(reply.raw)
  })
  app.get('/wait', async () => {
    await new Promise((resolve) => setTimeout(resolve, WAIT_MS))
    return { waited: true }
  })
  await app.register(
    (org, _options, done) => {
      org.get('/members/:member', (req) => req.params)
      done()
    },
    { prefix: '/api/orgs/:org' },
  )
  await app.register(
    async (v1) => {
      await v1.register(
        (items, _options, done) => {
          items.get('/:itemId', (req) => ({ item: (req.params as { itemId: string }).itemId }))
          done()
        },
        { prefix: '/items' },
      )
    },
    { prefix: '/api/v1' },
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, metrics, server: app.server }
}

export const frameworks = [
  ['express', startExpress],
  ['fastify', startFastify],
] as const
