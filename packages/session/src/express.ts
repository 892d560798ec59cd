import { writeAnswer } from '@uptimekit/internal'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import session from 'express-session'
import { readCookie } from './cookie-signature.js'
import { RedisSessionStore } from './express-store.js'
import { holdEndUntilSaved } from './hold-end-until-saved.js'
import type { RedisSessionOptions } from './options.js'
import { createSessionRuntime } from './session-runtime.js'

export { RedisSessionStore } from './express-store.js'
export type {
  RedisSessionOptions,
  RedisSessionStoreOptions,
  SessionCookieOptions,
} from './options.js'

/**
 * express-session on Redis with safe defaults. Requests without a session cookie never touch
 * Redis; while Redis is down, requests that carry one get a JSON 503 with `Retry-After` within
 * `unavailableTimeoutMs`. Mount it only on the routes that need sessions, or after those that don't.
 *
 * @example
 * const redis = createRedisClient(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
 * app.use(redisSession({ redis, secret: process.env.SESSION_SECRET!, ttlSeconds: 86400 }))
 * app.post('/login', (req, res, next) => req.session.regenerate((err) => { ... }))
 */
export function redisSession(options: RedisSessionOptions): RequestHandler {
  const runtime = createSessionRuntime(options)
  const { name, cookie, secrets, rolling } = runtime.options
  const store = new RedisSessionStore(options, runtime.options)
  const middleware = session({
    store,
    secret: [...secrets],
    name,
    cookie: { ...cookie },
    resave: false,
    saveUninitialized: false,
    rolling,
    unset: 'keep',
  })
  const markSaved = (saved: object): void => store.markSaved(saved)
  return (req: Request, res: Response, next: NextFunction) => {
    const sent = runtime.verify(readCookie(req.headers.cookie, name))
    void middleware(req, res, (err?: unknown) => {
      if (err === undefined || err === null) {
        const { session: current } = req
        if (sent?.rotated && current !== undefined && req.sessionID === sent.sid) {
          if (!cookie.secure || req.secure) {
            const { path, domain, sameSite, secure, httpOnly } = cookie
            const expires = current.cookie.expires ?? undefined
            const attributes = { path, domain, sameSite, secure, httpOnly, expires }
            res.cookie(name, runtime.signCookie(sent.sid), attributes)
          }
        }
        holdEndUntilSaved(req, res, { markSaved, runtime, next })
        return next()
      }
      if (!runtime.isUnavailable(err)) return next(err)
      // A save that failed after a streamed response started cannot turn it into a 503.
      if (res.headersSent) return
      writeAnswer(res, runtime.unavailable)
    })
  }
}
