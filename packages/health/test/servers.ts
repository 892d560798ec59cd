import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { onTestFinished } from 'vitest'
import type { Health } from '../src/health.js'
import { healthRouter } from '../src/express.js'
import { healthPlugin } from '../src/fastify.js'

/** Starts a real server serving `health` on 127.0.0.1:0; returns its base URL and closes it after the test. */
export type StartServer = (health: Health) => Promise<string>

/** Listens on 127.0.0.1:0, closes the server (and its keep-alive sockets) after the test, returns its base URL. */
export async function listenForTest(server: Server): Promise<string> {
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  server.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A plain node:http server for upstreams in tests, closed after the test. */
export const serveForTest = (handler: Parameters<typeof createServer>[1]): Promise<string> =>
  listenForTest(createServer(handler))

export const startExpress: StartServer = (health) => {
  const app = express()
  app.use(healthRouter(health))
  app.get('/other', (_req, res) => {
    res.json({ other: true })
  })
  return listenForTest(createServer(app))
}

export const startFastify: StartServer = async (health) => {
  const app = Fastify()
  onTestFinished(() => app.close())
  await app.register(healthPlugin, { health })
  app.get('/other', () => ({ other: true }))
  return app.listen({ port: 0, host: '127.0.0.1' })
}

export const ADAPTERS = [
  ['express', startExpress],
  ['fastify', startFastify],
] as const
