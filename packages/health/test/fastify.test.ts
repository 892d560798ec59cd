import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { describe, expect, it, onTestFinished } from 'vitest'
import healthPluginDefault, { healthPlugin } from '../src/fastify.js'
import { createHealth } from '../src/health.js'

describe('healthPlugin', () => {
  it('is exported both named and as default', () => {
    expect(healthPluginDefault).toBe(healthPlugin)
  })

  it('works bare: app.register(healthPlugin) serves probes with no checks', async () => {
    const app = Fastify()
    onTestFinished(() => app.close())
    await app.register(healthPlugin)
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    expect(await (await fetch(`${url}/ready`)).json()).toEqual({ status: 'ready' })
    expect(await (await fetch(`${url}/health`)).json()).toEqual({
      status: 'healthy',
      timestamp: expect.any(String),
      uptime: expect.any(Number),
      checks: {},
    })
    expect(app.health.accepting).toBe(true)
  })

  it('creates the health service from its options and closes it with the app', async () => {
    let closed = 0
    const check = Object.assign(() => Promise.resolve({ ok: true }), { close: () => closed++ })
    const app = Fastify()
    await app.register(healthPlugin, { checks: { probe: check }, paths: { live: '/healthz' } })
    const reply = await app.inject('/healthz')
    expect(reply.statusCode).toBe(200)
    await app.close()
    expect(closed).toBe(1)
  })

  it('leaves a health service it was given open when the app closes', async () => {
    let closed = 0
    const health = createHealth({
      checks: { probe: Object.assign(async () => {}, { close: () => closed++ }) },
    })
    const app = Fastify()
    await app.register(healthPlugin, { health })
    await app.close()
    expect(closed).toBe(0)
    health.close()
  })

  it('rejects bad options at registration', async () => {
    const app = Fastify()
    onTestFinished(() => app.close())
    await expect(app.register(healthPlugin, { timeoutMs: -5 })).rejects.toThrow(
      '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got -5)',
    )
  })

  it('keeps probe hits out of the Fastify info log', async () => {
    const lines: string[] = []
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString())
        done()
      },
    })
    const app = Fastify({ logger: { level: 'info', stream } })
    onTestFinished(() => app.close())
    await app.register(healthPlugin)
    app.get('/work', () => 'done')
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    for (const path of ['/live', '/ready', '/health', '/health/detailed', '/startup'])
      await (await fetch(`${url}${path}`)).text()
    await (await fetch(`${url}/work`)).text()
    const urls = lines
      .map((line) => (JSON.parse(line) as { req?: { url?: string } }).req?.url)
      .filter(Boolean)
    expect(urls).toEqual(['/work'])
  })
})
