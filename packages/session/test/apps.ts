import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import { redisSession } from '../src/express.js'
import { redisSessionPlugin } from '../src/fastify.js'
import type { RedisSessionOptions } from '../src/options.js'

declare module 'express-session' {
  interface SessionData {
    userId: string
    visits: number
    [key: string]: unknown
  }
}
declare module 'fastify' {
  interface Session {
    userId?: string
    visits?: number
    [key: string]: unknown
  }
}

/**
 * Points where a request waits for the test: `/put?gate=g` signals `arrived('g')` once its session
 * is loaded and its handler runs, then waits for `release('g')`, so tests order concurrent
 * requests by events rather than by sleeps.
 */
export class Gates {
  readonly #arrived = new Map<string, () => void>()
  readonly #arrivals = new Map<string, Promise<void>>()
  readonly #releases = new Map<string, () => void>()
  readonly #released = new Map<string, Promise<void>>()

  #slot(name: string): void {
    if (this.#arrivals.has(name)) return
    this.#arrivals.set(name, new Promise((resolve) => this.#arrived.set(name, resolve)))
    this.#released.set(name, new Promise((resolve) => this.#releases.set(name, resolve)))
  }

  /** Called by the route: signals arrival, resolves once released. */
  pass(name: string): Promise<void> {
    this.#slot(name)
    this.#arrived.get(name)?.()
    return this.#released.get(name) as Promise<void>
  }

  /** Resolves once a request reached the gate. */
  arrived(name: string): Promise<void> {
    this.#slot(name)
    return this.#arrivals.get(name) as Promise<void>
  }

  /** Lets the request at the gate go on. */
  release(name: string): void {
    this.#slot(name)
    this.#releases.get(name)?.()
  }
}

export const gates: Gates = new Gates()
const pass = (gate: unknown): Promise<void> =>
  typeof gate === 'string' ? gates.pass(gate) : Promise.resolve()

/** A listening app: its base URL and how to close it. */
export interface App {
  readonly url: string
  close(): Promise<void>
}

export type StartApp = (options: RedisSessionOptions) => Promise<App>

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The same routes on both frameworks: `/public` has no session, `/login?user=` regenerates and
 * stores a user, `/me` reads, `/visit` increments, `/slow-me?ms=` reads then waits, `/logout`
 * destroys.
 */
export const startExpress: StartApp = async (options) => {
  const app = express()
  app.get('/public', (_req, res) => void res.json({ ok: true }))
  app.use(redisSession(options))
  app.post('/login', (req, res, next) => {
    const userId = req.query.user as string
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.userId = userId
      res.json({ userId })
    })
  })
  app.get(
    '/me',
    (req, res) =>
      void res.json({ userId: req.session.userId ?? null, visits: req.session.visits ?? 0 }),
  )
  app.get('/slow-me', async (req, res) => {
    const userId = req.session.userId ?? null
    await sleep(Number(req.query.ms))
    res.json({ userId })
  })
  app.post('/visit', (req, res) => {
    req.session.visits = (req.session.visits ?? 0) + 1
    res.json({ visits: req.session.visits })
  })
  app.post('/put', async (req, res) => {
    const { key = '', value, gate } = req.query as Record<string, string | undefined>
    await pass(gate)
    req.session[key] = value
    res.json({ [key]: value })
  })
  app.get('/data', (req, res) => {
    const data = { ...(req.session as unknown as Record<string, unknown>) }
    delete data.cookie
    res.json(data)
  })
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ loggedOut: true })))
  })
  const server = await new Promise<Server>((resolve) => {
    const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export const startFastify: StartApp = async (options) => {
  const app = Fastify()
  app.get('/public', () => ({ ok: true }))
  await app.register(async (scope) => {
    await scope.register(redisSessionPlugin, options)
    scope.post<{ Querystring: { user: string } }>('/login', async (request) => {
      const userId = request.query.user
      await request.session.regenerate()
      request.session.set('userId', userId)
      return { userId }
    })
    scope.get('/me', (request) => ({
      userId: request.session.get('userId') ?? null,
      visits: request.session.get('visits') ?? 0,
    }))
    scope.get<{ Querystring: { ms: string } }>('/slow-me', async (request) => {
      const userId = request.session.get('userId') ?? null
      await sleep(Number(request.query.ms))
      return { userId }
    })
    scope.post('/visit', (request) => {
      const visits = (request.session.get('visits') ?? 0) + 1
      request.session.set('visits', visits)
      return { visits }
    })
    scope.post<{ Querystring: Record<string, string> }>('/put', async (request) => {
      const { key = '', value, gate } = request.query
      await pass(gate)
      request.session.set(key, value)
      return { [key]: value }
    })
    scope.get('/data', (request) => {
      const data = { ...(request.session as unknown as Record<string, unknown>) }
      delete data.cookie
      return data
    })
    scope.post('/logout', async (request) => {
      await request.session.destroy()
      return { loggedOut: true }
    })
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() }
}

export const FRAMEWORKS = [
  ['express', startExpress],
  ['fastify', startFastify],
] as const satisfies ReadonlyArray<readonly [string, StartApp]>

/** A logger that records what it is given, for assertions. */
export function recordingLogger(): {
  lines: { level: string; obj: object; msg: string }[]
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
  /** Resolves once a line with this message was logged at index `from` or later (at once if so). */
  logged: (msg: string, from?: number) => Promise<void>
} {
  const lines: { level: string; obj: object; msg: string }[] = []
  const waiting: { msg: string; resolve: () => void }[] = []
  const push = (level: string, obj: object, msg: string): void => {
    lines.push({ level, obj, msg })
    for (const waiter of waiting.filter((one) => one.msg === msg)) waiter.resolve()
  }
  const seen = (msg: string, from: number): boolean =>
    lines.slice(from).some((line) => line.msg === msg)
  return {
    lines,
    info: (obj, msg) => push('info', obj, msg),
    warn: (obj, msg) => push('warn', obj, msg),
    error: (obj, msg) => push('error', obj, msg),
    logged: (msg, from = 0) =>
      seen(msg, from)
        ? Promise.resolve()
        : new Promise((resolve) => waiting.push({ msg, resolve })),
  }
}

export const SECRET = 'an-example-secret-of-forty-characters-ok'
export const OLD_SECRET = 'the-previous-secret-also-long-enough-123'
