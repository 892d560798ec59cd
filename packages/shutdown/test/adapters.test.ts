import { setTimeout as sleep } from 'node:timers/promises'
import express from 'express'
import Fastify from 'fastify'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { listenWithShutdown } from '../src/express.js'
import { shutdownPlugin } from '../src/fastify.js'
import type { ShutdownOptions } from '../src/options.js'
import type { Shutdown } from '../src/shutdown.js'
import { recordLogs } from './log-recorder.js'

interface Started {
  url: string
  shutdown: Shutdown
  /** Names of the framework's own close steps, in the order they ran. */
  closed: string[]
}

async function startExpress(options: ShutdownOptions): Promise<Started> {
  const app = express()
  app.get('/', (_req, res) => void res.json({ ok: true }))
  const { server, shutdown, port } = await listenWithShutdown(app, {
    port: 0,
    host: '127.0.0.1',
    ...options,
  })
  onTestFinished(() => void server.close())
  const closed: string[] = []
  server.on('close', () => closed.push('server'))
  return { url: `http://127.0.0.1:${port}`, shutdown, closed }
}

async function startFastify(options: ShutdownOptions): Promise<Started> {
  const app = Fastify()
  onTestFinished(() => app.close())
  await app.register(shutdownPlugin, options)
  const closed: string[] = []
  // once: fastify.close() closes the already closed server again, and Node emits 'close' twice.
  app.server.once('close', () => closed.push('server'))
  app.addHook('onClose', (_instance, done) => {
    closed.push('fastify onClose')
    done()
  })
  app.get('/', (_req, reply) => reply.send({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`,
    shutdown: app.shutdown,
    closed,
  }
}

describe.each([
  ['express', startExpress],
  ['fastify', startFastify],
] as const)('%s adapter', (name, start) => {
  const base = { signals: [], exit: false } satisfies ShutdownOptions

  it('answers 200 with Connection: close during the drain, never 503', async () => {
    const { url, shutdown } = await start({
      ...base,
      // The last fifth is the quiet window, in which responses stop saying close.
      drainDelayMs: 1500,
      timeoutMs: 3000,
      logger: recordLogs().logger,
    })
    const done = shutdown.shutdown('deploy')
    await sleep(100)
    const res = await fetch(url)
    expect({
      status: res.status,
      connection: res.headers.get('connection'),
      body: await res.json(),
    }).toEqual({
      status: 200,
      connection: 'close',
      body: { ok: true },
    })
    expect((await done).result).toBe('drained')
  })

  it('closes the server, then runs the hooks in order and resolves with the outcome', async () => {
    const { shutdown, closed } = await start({
      ...base,
      drainDelayMs: 0,
      timeoutMs: 1000,
      logger: recordLogs().logger,
    })
    shutdown.onClose('db', () => void closed.push('db'))
    const outcome = await shutdown.shutdown('deploy')
    const frameworkHooks = name === 'fastify' ? ['fastify'] : []
    expect(outcome.hooks.map((h) => `${h.name} ${h.status}`)).toEqual(
      [...frameworkHooks, 'db'].map((hook) => `${hook} ok`),
    )
    const frameworkSteps = name === 'fastify' ? ['fastify onClose'] : []
    expect(closed).toEqual(['server', ...frameworkSteps, 'db'])
  })

  it('rejects bad options before listening', async () => {
    await expect(start({ ...base, drainDelayMs: -1 })).rejects.toMatchObject({
      code: 'UPTIMEKIT_INVALID_OPTION',
      message: '`drainDelayMs` must be an integer of milliseconds from 0 to 2147483647 (got -1)',
    })
  })

  it('rejects a mistyped option, naming the real one', async () => {
    await expect(start({ ...base, drainDelay: 100 } as ShutdownOptions)).rejects.toMatchObject({
      code: 'UPTIMEKIT_INVALID_OPTION',
      option: 'drainDelay',
      message: expect.stringContaining('did you mean `drainDelayMs`?') as string,
    })
  })
})

describe('listenWithShutdown', () => {
  it('rejects when the port is taken and stops listening for signals', async () => {
    const before = process.listenerCount('SIGUSR2')
    const { server, port, shutdown } = await listenWithShutdown(express(), {
      port: 0,
      host: '127.0.0.1',
      signals: ['SIGUSR2'],
    })
    onTestFinished(() => {
      shutdown.dispose()
      server.close()
    })
    await expect(
      listenWithShutdown(express(), { port, host: '127.0.0.1', signals: ['SIGUSR2'] }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' })
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
  })
})

describe('shutdownPlugin', () => {
  it('stops listening for signals when the app is closed by hand', async () => {
    const before = process.listenerCount('SIGUSR2')
    const app = Fastify()
    await app.register(shutdownPlugin, { signals: ['SIGUSR2'] })
    await app.ready()
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1)
    await app.close()
    expect(process.listenerCount('SIGUSR2')).toBe(before)
  })

  it("logs through the app's logger unless given one", async () => {
    const lines: string[] = []
    const app = Fastify({
      logger: {
        level: 'info',
        stream: {
          write: (line: string) => void lines.push((JSON.parse(line) as { msg: string }).msg),
        },
      },
    })
    await app.register(shutdownPlugin, { signals: [], exit: false, drainDelayMs: 0 })
    await app.listen({ port: 0, host: '127.0.0.1' })
    await app.shutdown.shutdown('deploy')
    expect(lines.filter((msg) => !msg.startsWith('Server listening'))).toEqual([
      'shutdown started',
      'listener closed, draining connections',
      'connections drained',
      'close hook done',
      'shutdown complete',
    ])
  })
})

describe('the default logger', () => {
  it('writes one JSON line per step on stderr for a plain Fastify() without a logger', async () => {
    const lines: string[] = []
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk))
      return true
    })
    onTestFinished(() => write.mockRestore())
    const app = Fastify()
    onTestFinished(() => app.close())
    await app.register(shutdownPlugin, { signals: [], exit: false, drainDelayMs: 0 })
    await app.listen({ port: 0, host: '127.0.0.1' })
    await app.shutdown.shutdown('deploy')
    write.mockRestore()
    const events = lines.map((line) => JSON.parse(line) as { name: string; msg: string })
    expect(events.map(({ name, msg }) => `${name} ${msg}`)).toEqual(
      [
        'shutdown started',
        'listener closed, draining connections',
        'connections drained',
        'close hook done',
        'shutdown complete',
      ].map((msg) => `@uptimekit/shutdown ${msg}`),
    )
  })
})
