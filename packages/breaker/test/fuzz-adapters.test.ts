import { once } from 'node:events'
import { connect, type AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import { breakerGuard } from '../src/express.js'
import { breakerPlugin } from '../src/fastify.js'
import { seeded } from '../../../test/support/seeded.js'
import { oddValues } from './fixtures/odd-values.js'

const SEED = 0x0dd_5eed
const CONNECTIONS = 60
const BATCH = 12

interface App {
  port: number
  /** Errors that reached the app's error handler from a route that does not throw. */
  unexpected: () => number
}
type Start = (breaker: CircuitBreaker) => Promise<App>

const THROWN = oddValues()
const thrownBy = (index: unknown): unknown => THROWN[Number(index) % THROWN.length]
const statusOf = (code: unknown): number => {
  const n = Number(code)
  return Number.isInteger(n) && n >= 200 && n <= 599 ? n : 400
}

/** An error's `statusCode`, read without trusting the value (it may be a revoked Proxy). */
function statusCodeOf(error: unknown): unknown {
  try {
    return (error as { statusCode?: unknown } | null)?.statusCode
  } catch {
    return undefined
  }
}

const startExpress: Start = async (breaker) => {
  let unexpected = 0
  const app = express()
  const guard = breakerGuard(breaker)
  app.all('/ok', guard, (_req, res) => res.json({ ok: true }))
  app.all('/status/:code', guard, (req, res) => res.status(statusOf(req.params.code)).json({}))
  app.all('/throw/:i', guard, (req) => {
    const value = thrownBy(req.params.i)
    if (Number(req.params.i) % 2 === 0) throw value
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- odd values are the point
    return Promise.reject(value)
  })
  app.all('/hang', guard, () => {})
  app.all('/slow', guard, (_req, res) => setTimeout(() => res.json({ slow: true }), 20))
  app.all('/plain', (_req, res) => res.json({ plain: true }))
  // What a production app has: a generic 500 that shows nothing of the error.
  app.use((_error: unknown, req: express.Request, res: express.Response, _next: unknown) => {
    if (!req.path.startsWith('/throw/')) unexpected++
    if (res.headersSent) res.destroy()
    else res.status(500).json({ error: 'handler failed' })
  })
  const server = app.listen(0, '127.0.0.1')
  onTestFinished(() => {
    server.closeAllConnections()
    server.close()
  })
  await once(server, 'listening')
  return { port: (server.address() as AddressInfo).port, unexpected: () => unexpected }
}

const startFastify: Start = async (breaker) => {
  let unexpected = 0
  const app = Fastify({ forceCloseConnections: true })
  onTestFinished(() => app.close())
  await app.register(breakerPlugin)
  const config = { breaker }
  app.all('/ok', { config }, () => Promise.resolve({ ok: true }))
  app.all<{ Params: { code: string } }>('/status/:code', { config }, async (req, reply) =>
    reply.code(statusOf(req.params.code)).send({}),
  )
  app.all<{ Params: { i: string } }>('/throw/:i', { config }, (req) => {
    const value = thrownBy(req.params.i)
    if (Number(req.params.i) % 2 === 0) throw value
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- odd values are the point
    return Promise.reject(value)
  })
  app.all('/hang', { config }, () => new Promise(() => {}))
  app.all('/slow', { config }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 20))
    return { slow: true }
  })
  app.all('/plain', () => Promise.resolve({ plain: true }))
  app.setErrorHandler((error, request, reply) => {
    // Fastify's own client errors (a body it cannot parse) keep their 4xx, as in any app.
    const status = statusCodeOf(error)
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'bad request' })
    }
    if (!request.url.startsWith('/throw/')) unexpected++
    return reply.code(500).send({ error: 'handler failed' })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { port: (app.server.address() as AddressInfo).port, unexpected: () => unexpected }
}

/** One random request, as bytes: mostly well-formed, some broken the ways clients break them. */
function randomRequest(random: () => number, last: boolean): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const method = pick(['GET', 'GET', 'GET', 'POST', 'HEAD', 'DELETE', 'OPTIONS', 'PURGE', 'G%T'])
  const failing = `/throw/${Math.floor(random() * 40)}`
  const path = pick([
    '/ok',
    '/ok?x=1',
    `/status/${100 + Math.floor(random() * 520)}`,
    `/status/${500 + Math.floor(random() * 100)}`,
    failing,
    failing,
    failing,
    '/hang',
    '/slow',
    '/plain',
    '/%zz',
    '//ok',
    '/ok/../ok',
    `/${'a'.repeat(Math.floor(random() * 20_000))}`,
    '*',
  ])
  const headers = ['Host: fuzz']
  const body = random() < 0.3 ? 'x'.repeat(Math.floor(random() * 64)) : ''
  const framing = random()
  if (framing < 0.1)
    headers.push(`Content-Length: ${body.length + 5}`) // the body never completes
  else if (framing < 0.15)
    headers.push('Transfer-Encoding: chunked') // with a body that is not chunked
  else if (body !== '') headers.push(`Content-Length: ${body.length}`)
  if (random() < 0.05) headers.push(`X-Big: ${'b'.repeat(20_000)}`)
  if (random() < 0.05) headers.push('X-Bad: \u0001')
  if (random() < 0.1) headers.push('Content-Type: application/json')
  if (last) headers.push('Connection: close')
  return `${method} ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n${body}`
}

/** Sends 1 to 4 pipelined requests on one connection, then reads, waits or leaves. */
async function randomConnection(port: number, random: () => number): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  let received = ''
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => (received += chunk))
  socket.on('error', () => {})
  await once(socket, 'connect')
  const count = 1 + Math.floor(random() * 4)
  const requests = Array.from({ length: count }, (_, i) => randomRequest(random, i === count - 1))
  const bytes = requests.join('')
  // Sometimes written in pieces, as a slow client would.
  const cut = random() < 0.3 ? Math.floor(random() * bytes.length) : bytes.length
  socket.write(bytes.slice(0, cut))
  if (cut < bytes.length) {
    await new Promise((resolve) => setTimeout(resolve, 5))
    if (!socket.destroyed) socket.write(bytes.slice(cut))
  }
  const leave = random()
  const closed = once(socket, 'close').catch(() => undefined)
  // Leave at once, a little later, or wait for the server (bounded, for routes that hang).
  const waitMs = leave < 0.3 ? 0 : leave < 0.6 ? 15 : 400
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, waitMs))])
  socket.destroy()
  return received
}

describe.each([
  ['express', startExpress],
  ['fastify', startFastify],
] as const)('fuzz: random request shapes through the %s guard', (_name, start) => {
  it('never crashes, never leaks internals, answers 503 in the house shape and recovers', async () => {
    const random = seeded(SEED)
    const breaker = new CircuitBreaker({
      name: 'fuzz',
      failureThreshold: 2,
      resetTimeoutMs: 1_000,
      callTimeoutMs: 200,
      halfOpenMaxCalls: 2,
      backoff: { factor: 1 },
      logger: false,
    })
    const app = await start(breaker)
    const base = `http://127.0.0.1:${app.port}`
    // Open the circuit first, so the random traffic meets every state.
    expect((await fetch(`${base}/status/500`)).status).toBe(500)
    expect((await fetch(`${base}/status/503`)).status).toBe(503)
    const refused = await fetch(`${base}/ok`)
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([503, '1'])
    const transcripts: string[] = [`HTTP/1.1 503\r\n\r\n${await refused.text()}`]
    for (let done = 0; done < CONNECTIONS; done += BATCH) {
      const batch = Array.from({ length: BATCH }, () => randomConnection(app.port, random))
      transcripts.push(...(await Promise.all(batch)))
    }
    const all = transcripts.join('\n')
    expect(all).not.toMatch(/\n\s+at |\/work\/|node_modules|secret/)
    const refusals = all.match(/\{"statusCode":503[^}]*\}/g) ?? []
    expect(refusals.length).toBeGreaterThan(0)
    for (const body of refusals) {
      expect(JSON.parse(body)).toEqual({
        statusCode: 503,
        code: 'UPTIMEKIT_CIRCUIT_OPEN',
        error: 'Service Unavailable',
        message: expect.stringMatching(/^circuit "fuzz" is (open|half-open): /) as unknown,
      })
    }
    expect(app.unexpected()).toBe(0)
    // No stuck state: with every client gone, a well-behaved client gets through again.
    await vi.waitFor(
      async () => {
        const res = await fetch(`${base}/ok`)
        expect(res.status).toBe(200)
        expect(breaker.state).toBe('closed')
      },
      { timeout: 10_000, interval: 100 },
    )
  })
})
