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
  }
}
declare module 'fastify' {
  interface Session {
    userId?: string
    visits?: number
  }
}

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
  lines: { level: string; obj: object; msg?: string }[]
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
  error: (obj: object, msg?: string) => void
} {
  const lines: { level: string; obj: object; msg?: string }[] = []
  return {
    lines,
    info: (obj, msg) => void lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => void lines.push({ level: 'error', obj, msg }),
  }
}

export const SECRET = 'an-example-secret-of-forty-characters-ok'
export const OLD_SECRET = 'the-previous-secret-also-long-enough-123'
