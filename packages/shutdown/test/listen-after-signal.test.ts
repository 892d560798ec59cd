import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import express from 'express'
import Fastify from 'fastify'
import { describe, expect, it, onTestFinished } from 'vitest'
import { shutdownPlugin } from '../src/fastify.js'
import type { ShutdownOptions } from '../src/options.js'
import { type Shutdown, createShutdown } from '../src/shutdown.js'
import { recordLogs } from './log-recorder.js'

interface Unstarted {
  shutdown: Shutdown
  server: Server
  /** Calls the framework's listen(); resolves once it returned (or rejected). */
  listen(): Promise<void>
  /** Requests that reached a handler. */
  served: string[]
}

async function expressApp(options: ShutdownOptions): Promise<Unstarted> {
  const served: string[] = []
  const app = express()
  app.get('/', (req, res) => void (served.push(req.path), res.send('ok')))
  const server = createServer(app)
  onTestFinished(() => void server.close())
  const shutdown = createShutdown(server, options)
  const listen = () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return Promise.resolve({ shutdown, server, listen, served })
}

async function fastifyApp(options: ShutdownOptions): Promise<Unstarted> {
  const served: string[] = []
  const app = Fastify()
  onTestFinished(() => app.close())
  await app.register(shutdownPlugin, options)
  app.get('/', (req, reply) => reply.send((served.push(req.url), 'ok')))
  await app.ready()
  const listen = () =>
    app.listen({ port: 0, host: '127.0.0.1' }).then(
      () => {},
      () => {},
    )
  return { shutdown: app.shutdown, server: app.server, listen, served }
}

const answers = async (server: Server): Promise<string> => {
  const address = server.address() as AddressInfo | null
  if (address === null) return 'not listening'
  return fetch(`http://127.0.0.1:${address.port}/`).then(
    (res) => `status ${res.status}`,
    () => 'refused',
  )
}

describe.each([
  ['express', expressApp],
  ['fastify', fastifyApp],
] as const)('%s: a signal before listen()', (_name, create) => {
  it('keeps the server from listening once the shutdown finished, with exit off', async () => {
    const app = await create({
      signals: ['SIGUSR2'],
      exit: false,
      drainDelayMs: 0,
      logger: recordLogs().logger,
    })
    const done = new Promise<unknown>((resolve) =>
      process.once('SIGUSR2', () => void app.shutdown.shutdown().then(resolve)),
    )
    process.kill(process.pid, 'SIGUSR2')
    expect(await done).toMatchObject({ result: 'drained', exitCode: 0 })
    await app.listen()
    await sleep(20)
    expect(app.server.listening).toBe(false)
    expect(await answers(app.server)).toBe('not listening')
    expect(app.served).toEqual([])
  })

  it('serves nothing beside the close hooks when listen() comes during them', async () => {
    const app = await create({
      signals: [],
      exit: false,
      drainDelayMs: 0,
      logger: recordLogs().logger,
    })
    const during: string[] = []
    app.shutdown.onClose('slow', async () => {
      await app.listen()
      await sleep(50)
      during.push(String(app.server.listening), await answers(app.server))
    })
    expect(await app.shutdown.shutdown('deploy')).toMatchObject({ result: 'drained' })
    expect(during).toEqual(['false', 'not listening'])
    expect(app.served).toEqual([])
  })
})
