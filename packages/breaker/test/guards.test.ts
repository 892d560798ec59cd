import { once } from 'node:events'
import { connect, type AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { CircuitBreaker } from '../src/breaker.js'
import type { CircuitBreakerOptions } from '../src/options.js'
import { breakerGuard } from '../src/express.js'
import { breakerPlugin } from '../src/fastify.js'

const T0 = Date.UTC(2030, 0, 1)
/** Moves the fake clocks (wall and monotonic) forward to `ms` after T0, firing due timers. */
const at = (ms: number): void => {
  vi.advanceTimersByTime(T0 + ms - Date.now())
}

interface App {
  url: string
  /** Times the /ok handler ran. */
  okHits: () => number
  /** Resolves once a /hang request reached its handler. */
  hanging: () => Promise<void>
}
interface StartOptions {
  queueOnOpen?: boolean
  isFailureStatus?: (statusCode: number) => boolean
}
type Start = (breaker: CircuitBreaker, options?: StartOptions) => Promise<App>

function hangSignal() {
  let entered: () => void = () => {}
  let next = new Promise<void>((resolve) => (entered = resolve))
  return {
    enter: () => entered(),
    hanging: async () => {
      await next
      next = new Promise<void>((resolve) => (entered = resolve))
    },
  }
}

const startExpress: Start = async (breaker, options = {}) => {
  let okHits = 0
  const hang = hangSignal()
  const app = express()
  const guard = breakerGuard(breaker, {
    isFailureStatus: options.isFailureStatus,
    onOpen: options.queueOnOpen ? (_req, res) => res.status(202).json({ queued: true }) : undefined,
  })
  app.get('/ok', guard, (_req, res) => {
    okHits++
    res.json({ ok: true })
  })
  app.get('/fail', guard, (_req, res) => res.status(500).json({ error: 'upstream' }))
  app.get('/throw', guard, () => {
    throw new Error('kaput')
  })
  app.get('/missing', guard, (_req, res) => res.status(404).json({ error: 'not found' }))
  app.get('/busy', guard, (_req, res) => res.status(429).json({ error: 'busy' }))
  app.get('/hang', guard, (_req, res) => {
    res.once('close', () => res.status(500).end())
    hang.enter()
  })
  // Not guarded: holds the connection so a request pipelined behind it has its answer queued.
  app.get('/wait', () => hang.enter())
  return { url: await listenExpress(app), okHits: () => okHits, hanging: hang.hanging }
}

/** Listens on a free port, closes on test end, and returns the base URL. */
async function listenExpress(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1')
  onTestFinished(() => {
    server.closeAllConnections()
    server.close()
  })
  await new Promise((resolve) => server.once('listening', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const startFastify: Start = async (breaker, options = {}) => {
  let okHits = 0
  const hang = hangSignal()
  // fetch keeps connections alive; close them all so close() does not wait for its idle timeout.
  const app = Fastify({ forceCloseConnections: true })
  onTestFinished(() => app.close())
  await app.register(breakerPlugin, {
    isFailureStatus: options.isFailureStatus,
    onOpen: options.queueOnOpen
      ? (_req, reply) => reply.code(202).send({ queued: true })
      : undefined,
  })
  const config = { breaker }
  app.get('/ok', { config }, (_req, reply) => {
    okHits++
    return reply.send({ ok: true })
  })
  app.get('/fail', { config }, async (_req, reply) => reply.code(500).send({ error: 'upstream' }))
  app.get('/throw', { config }, () => Promise.reject(new Error('kaput')))
  app.get('/missing', { config }, async (_req, reply) =>
    reply.code(404).send({ error: 'not found' }),
  )
  app.get('/busy', { config }, async (_req, reply) => reply.code(429).send({ error: 'busy' }))
  app.get('/hang', { config }, async (_req, reply) => {
    const closed = new Promise((resolve) => reply.raw.once('close', resolve))
    hang.enter()
    await closed
    return reply.code(500).send({ error: 'too late' })
  })
  app.get('/wait', () => {
    hang.enter()
    return new Promise(() => {})
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, okHits: () => okHits, hanging: hang.hanging }
}

function paymentsBreaker(options: Partial<CircuitBreakerOptions> = {}) {
  const breaker = new CircuitBreaker({
    name: 'payments',
    failureThreshold: 1,
    resetTimeoutMs: 30_000,
    backoff: { jitterRatio: 0 },
    logger: false,
    ...options,
  })
  const outcomes: string[] = []
  breaker.onSuccess(() => outcomes.push('success'))
  breaker.onFailure(() => outcomes.push('failure'))
  return { breaker, outcomes }
}

async function get(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url)
  return { status: res.status, headers: res.headers, body: await res.json() }
}

beforeEach(() => {
  // Only the clock: sockets and vi.waitFor keep their real timers.
  vi.useFakeTimers({ toFake: ['Date', 'performance'] })
  vi.setSystemTime(T0)
})
afterEach(() => vi.useRealTimers())

describe.each([
  ['express', startExpress],
  ['fastify', startFastify],
] as const)('%s guard', (_name, start) => {
  it('counts 5xx responses and thrown errors as failures and opens the circuit', async () => {
    const { breaker, outcomes } = paymentsBreaker({ failureThreshold: 2 })
    const app = await start(breaker)
    expect((await get(`${app.url}/fail`)).status).toBe(500)
    expect((await fetch(`${app.url}/throw`)).status).toBe(500)
    await vi.waitFor(() => expect(outcomes).toEqual(['failure', 'failure']))
    expect(breaker.state).toBe('open')
  })

  it('counts 2xx and 4xx responses as successes', async () => {
    const { breaker, outcomes } = paymentsBreaker({ failureThreshold: 2 })
    const app = await start(breaker)
    await get(`${app.url}/fail`)
    expect(await get(`${app.url}/missing`)).toMatchObject({ status: 404 })
    expect(await get(`${app.url}/ok`)).toMatchObject({ status: 200, body: { ok: true } })
    await vi.waitFor(() => expect(outcomes).toEqual(['failure', 'success', 'success']))
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 })
  })

  it('answers 503 with Retry-After and the house error body naming the breaker while open', async () => {
    const { breaker } = paymentsBreaker()
    const app = await start(breaker)
    await get(`${app.url}/fail`)
    await vi.waitFor(() => expect(breaker.state).toBe('open'))
    at(1_500)
    const res = await get(`${app.url}/ok`)
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('29')
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.body).toEqual({
      statusCode: 503,
      code: 'UPTIMEKIT_CIRCUIT_OPEN',
      error: 'Service Unavailable',
      message: 'circuit "payments" is open: next attempt in 29 s',
    })
    expect(app.okHits()).toBe(0)
  })

  it('lets onOpen answer instead of the 503 (202 after queueing)', async () => {
    const { breaker } = paymentsBreaker()
    const app = await start(breaker, { queueOnOpen: true })
    await get(`${app.url}/fail`)
    await vi.waitFor(() => expect(breaker.state).toBe('open'))
    expect(await get(`${app.url}/ok`)).toMatchObject({ status: 202, body: { queued: true } })
    expect(app.okHits()).toBe(0)
  })

  it('recovers through half-open: a successful trial closes the circuit', async () => {
    const { breaker } = paymentsBreaker()
    const changes: string[] = []
    breaker.onStateChange(({ to }) => changes.push(to))
    const app = await start(breaker)
    await get(`${app.url}/fail`)
    await vi.waitFor(() => expect(breaker.state).toBe('open'))
    at(30_000)
    expect(await get(`${app.url}/ok`)).toMatchObject({ status: 200, body: { ok: true } })
    await vi.waitFor(() => expect(changes).toEqual(['open', 'half_open', 'closed']))
  })

  it('reopens when the half-open trial answers 5xx', async () => {
    const { breaker } = paymentsBreaker()
    const app = await start(breaker)
    await get(`${app.url}/fail`)
    await vi.waitFor(() => expect(breaker.state).toBe('open'))
    at(30_000)
    expect((await get(`${app.url}/fail`)).status).toBe(500)
    await vi.waitFor(() =>
      expect(breaker.snapshot()).toMatchObject({ state: 'open', reopenCount: 1 }),
    )
    expect((await get(`${app.url}/ok`)).headers.get('retry-after')).toBe('60')
  })

  it('does not count a client that disconnects before the response, and frees its trial slot', async () => {
    const { breaker, outcomes } = paymentsBreaker()
    const app = await start(breaker)
    await get(`${app.url}/fail`)
    await vi.waitFor(() => expect(breaker.state).toBe('open'))
    at(30_000)
    const client = new AbortController()
    const request = fetch(`${app.url}/hang`, { signal: client.signal }).catch(
      (error: Error) => error.name,
    )
    await app.hanging()
    expect(breaker.snapshot().halfOpen).toEqual({ inFlight: 1, successes: 0 })
    client.abort()
    expect(await request).toBe('AbortError')
    await vi.waitFor(() =>
      expect(breaker.snapshot().halfOpen).toEqual({ inFlight: 0, successes: 0 }),
    )
    expect(outcomes).toEqual(['failure'])
    expect(await get(`${app.url}/ok`)).toMatchObject({ status: 200 })
    await vi.waitFor(() => expect(outcomes).toEqual(['failure', 'success']))
    expect(breaker.state).toBe('closed')
  })

  it('frees a half-open trial pipelined behind another request when its client leaves', async () => {
    const { breaker, outcomes } = paymentsBreaker()
    const app = await start(breaker)
    await get(`${app.url}/fail`)
    await vi.waitFor(() => expect(breaker.state).toBe('open'))
    at(30_000)
    // One connection, two requests: the trial's answer waits behind /wait's, which never
    // comes; Node never emits `close` for a response queued on a connection that died.
    const socket = connect(Number(new URL(app.url).port), '127.0.0.1')
    await once(socket, 'connect')
    socket.write('GET /wait HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\n\r\n')
    await app.hanging()
    await vi.waitFor(() => expect(app.okHits()).toBe(1))
    expect(breaker.snapshot().halfOpen).toEqual({ inFlight: 1, successes: 0 })
    socket.destroy()
    await vi.waitFor(() =>
      expect(breaker.snapshot().halfOpen).toEqual({ inFlight: 0, successes: 0 }),
    )
    expect(await get(`${app.url}/ok`)).toMatchObject({ status: 200, body: { ok: true } })
    await vi.waitFor(() => expect(outcomes).toEqual(['failure', 'success']))
    expect(breaker.state).toBe('closed')
  })

  it('counts a half-open trial that never answers as failed after callTimeoutMs', async () => {
    const { breaker, outcomes } = paymentsBreaker({ callTimeoutMs: 50 })
    const app = await start(breaker)
    await get(`${app.url}/fail`)
    await vi.waitFor(() => expect(breaker.state).toBe('open'))
    at(30_000)
    void fetch(`${app.url}/hang`).catch(() => undefined)
    await app.hanging()
    expect(breaker.snapshot().halfOpen).toEqual({ inFlight: 1, successes: 0 })
    // The permit's own timer runs on the real clock: only the breaker's clock is faked here.
    await vi.waitFor(() => expect(breaker.state).toBe('open'))
    expect(outcomes).toEqual(['failure', 'failure'])
    expect(breaker.snapshot()).toMatchObject({ reopenCount: 1, halfOpen: null })
    // The reopened period is twice the reset timeout (backoff), from when the trial timed out.
    vi.advanceTimersByTime(60_000)
    expect(await get(`${app.url}/ok`)).toMatchObject({ status: 200 })
    await vi.waitFor(() => expect(breaker.state).toBe('closed'))
  })

  it('counts the statuses isFailureStatus names', async () => {
    const { breaker, outcomes } = paymentsBreaker({ failureThreshold: 5 })
    const app = await start(breaker, { isFailureStatus: (status) => status === 429 })
    await get(`${app.url}/busy`)
    await get(`${app.url}/fail`)
    await vi.waitFor(() => expect(outcomes).toEqual(['failure', 'success']))
  })
})

describe('Express and thrown errors', () => {
  async function startThrowing(breaker: CircuitBreaker): Promise<string> {
    const app = express()
    const guard = breakerGuard(breaker)
    app.get('/kaput', guard, () => {
      throw new Error('kaput')
    })
    app.get('/gone', guard, () => {
      throw Object.assign(new Error('gone'), { status: 404 })
    })
    app.get('/half', guard, (_req, res) => {
      res.write('partial')
      throw new Error('mid-stream')
    })
    app.get('/ok', guard, (_req, res) => res.json({ ok: true }))
    return listenExpress(app)
  }

  it('judges a thrown error by the status the error handler answers, not by isFailure', async () => {
    const { breaker, outcomes } = paymentsBreaker({ failureThreshold: 5, isFailure: () => false })
    const url = await startThrowing(breaker)
    expect((await fetch(`${url}/kaput`)).status).toBe(500)
    await vi.waitFor(() => expect(outcomes).toEqual(['failure']))
    expect((await fetch(`${url}/gone`)).status).toBe(404)
    await vi.waitFor(() => expect(outcomes).toEqual(['failure', 'success']))
  })

  it('counts neither way an error thrown after the response started (Express cuts the socket)', async () => {
    const { breaker, outcomes } = paymentsBreaker()
    const url = await startThrowing(breaker)
    const body = await fetch(`${url}/half`).then(
      (res) => res.text(),
      () => 'cut',
    )
    expect(body).toBe('cut')
    expect((await fetch(`${url}/ok`)).status).toBe(200)
    await vi.waitFor(() => expect(outcomes).toEqual(['success']))
    expect(breaker.snapshot()).toMatchObject({ state: 'closed', consecutiveFailures: 0 })
  })
  it('hands an onOpen that rejects to the error middleware through next(err)', async () => {
    const { breaker } = paymentsBreaker()
    breaker.forceOpen()
    const app = express()
    const onOpen = () => Promise.reject(new Error('queue is down'))
    app.get('/pay', breakerGuard(breaker, { onOpen }), (_req, res) => res.json({ paid: true }))
    app.use((error: Error, _req: express.Request, res: express.Response, _next: unknown) => {
      res.status(502).json({ error: error.message })
    })
    const url = await listenExpress(app)
    const { status, body } = await get(`${url}/pay`)
    expect({ status, body }).toEqual({ status: 502, body: { error: 'queue is down' } })
  })
})

describe('guard setup errors', () => {
  it('breakerPlugin with a bad option rejects register() and ready(), and the process lives', async () => {
    const app = Fastify()
    onTestFinished(() => app.close())
    await expect(app.register(breakerPlugin, { isFailureStatus: 500 as never })).rejects.toThrow(
      '`isFailureStatus` must be a function (got 500)',
    )
    const other = Fastify()
    onTestFinished(() => other.close())
    void other.register(breakerPlugin, { onOpne: () => {} } as never)
    await expect(other.ready()).rejects.toMatchObject({
      code: 'UPTIMEKIT_INVALID_OPTION',
      option: 'onOpne',
    })
  })

  it('breakerGuard with an unknown option throws at creation, with the closest real one', () => {
    const { breaker } = paymentsBreaker()
    expect(() => breakerGuard(breaker, { onopen: () => {} } as never)).toThrow(
      '`onopen` is not an option of breakerGuard; did you mean `onOpen`?',
    )
  })

  it('breakerGuard rejects something that is not a breaker', () => {
    expect(() => breakerGuard({} as CircuitBreaker)).toThrow(
      '`breaker` must be a CircuitBreaker (got an object)',
    )
  })

  it('the Fastify plugin rejects a route whose config.breaker is not a breaker', async () => {
    const app = Fastify()
    onTestFinished(() => app.close())
    await app.register(breakerPlugin)
    expect(() =>
      app.get('/x', { config: { breaker: 'payments' as never } }, (_req, reply) => reply.send('x')),
    ).toThrow('`config.breaker` must be a CircuitBreaker (got "payments")')
  })

  it('Fastify counts a thrown error as a failure whatever its status, by default', async () => {
    const { breaker, outcomes } = paymentsBreaker()
    const app = Fastify({ forceCloseConnections: true })
    onTestFinished(() => app.close())
    await app.register(breakerPlugin)
    app.get('/gone', { config: { breaker } }, () =>
      Promise.reject(Object.assign(new Error('gone'), { statusCode: 404 })),
    )
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    expect((await fetch(`${url}/gone`)).status).toBe(404)
    await vi.waitFor(() => expect(outcomes).toEqual(['failure']))
    expect(breaker.state).toBe('open')
  })

  it('Fastify judges a thrown error by the breaker isFailure', async () => {
    const { breaker, outcomes } = paymentsBreaker({
      isFailure: (error) => (error as Error).message !== 'kaput',
    })
    const app = await startFastify(breaker)
    expect((await fetch(`${app.url}/throw`)).status).toBe(500)
    await vi.waitFor(() => expect(outcomes).toEqual(['success']))
    expect(breaker.state).toBe('closed')
  })
})
