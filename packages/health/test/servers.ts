import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { onTestFinished } from 'vitest'
import type { Health } from '../src/health.js'
import { healthRouter } from '../src/express.js'
import { healthPlugin } from '../src/fastify.js'

/** Starts a real server serving `health` on 127.0.0.1:0; returns its base URL and closes it after the test. */
export type StartServer = (health: Health) => Promise<string>

export const startExpress: StartServer = async (health) => {
  const app = express()
  app.use(healthRouter(health))
  app.get('/other', (_req, res) => {
    res.json({ other: true })
  })
  const server = app.listen(0, '127.0.0.1')
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  await new Promise<void>((resolve) => server.once('listening', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
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
