import fastifyCookie from '@fastify/cookie'
import { fastifySession, type SessionStore } from '@fastify/session'
import { definePlugin, pluginLogger, sendAnswer } from '@uptimekit/internal/fastify'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { VerifiedCookie } from './cookie-signature.js'
import type { RedisSessionOptions } from './options.js'
import { createSessionRuntime } from './session-runtime.js'
import { RedisSessionStore } from './session-store.js'

export type { RedisSessionOptions, SessionCookieOptions } from './options.js'
// Re-exported so this entry's types load @fastify/session's, which add `request.session` (extend
// Fastify's `Session` interface with your session's keys).
export type { FastifySessionObject } from '@fastify/session'

type Done = (err?: unknown, payload?: unknown) => void
type Hook = (request: FastifyRequest, reply: FastifyReply, ...rest: unknown[]) => void

async function sessionPlugin(app: FastifyInstance, options: RedisSessionOptions): Promise<void> {
  const logger = pluginLogger(app, options?.logger, '@uptimekit/session')
  const runtime = createSessionRuntime(options, logger)
  const { name, cookie, rolling } = runtime.options
  const store = new RedisSessionStore(options, runtime.options)
  app.addHook('onClose', (_app, done) => {
    store.close()
    done()
  })
  if (!app.hasPlugin('@fastify/cookie')) await app.register(fastifyCookie)
  const sent = new WeakMap<FastifyRequest, VerifiedCookie>()

  const onRequest = (hook: Hook) => (request: FastifyRequest, reply: FastifyReply, done: Done) => {
    const verified = runtime.verify(request.cookies[name])
    if (verified !== undefined) {
      sent.set(request, verified)
      // Present an old-secret cookie re-signed, or @fastify/session would clear it on the way out.
      if (verified.rotated) request.cookies[name] = runtime.signCookie(verified.sid)
    }
    hook(request, reply, (err?: unknown) => {
      if (runtime.isUnavailable(err)) return void sendAnswer(reply, runtime.unavailable)
      // A session read from Redis (its id is the cookie's): its save merges what it changed.
      const loaded = request.session as FastifyRequest['session'] | null
      if (verified !== undefined && loaded?.sessionId === verified.sid) store.remember(loaded)
      done(err)
    })
  }
  const onSend =
    (hook: Hook) =>
    (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: Done) => {
      hook(request, reply, payload, (err?: unknown, next?: unknown) => {
        if (runtime.isUnavailable(err)) {
          const { statusCode, headers, body } = runtime.unavailable
          void reply.code(statusCode).headers(headers)
          return done(null, body)
        }
        const current = request.session as FastifyRequest['session'] | null
        const verified = sent.get(request)
        const resend = verified !== undefined && (rolling || verified.rotated)
        if (!err && resend && current?.sessionId === verified.sid && !current.isSaved()) {
          if (!cookie.secure || request.protocol === 'https') {
            current.touch()
            const expires = current.cookie.expires ?? undefined
            reply.setCookie(name, runtime.signCookie(verified.sid), {
              ...cookie,
              maxAge: undefined,
              expires,
            })
          }
        }
        done(err, next)
      })
    }
  // @fastify/session answers a store error with a 500 from inside its hooks; wrapping them is the
  // only place to turn an outage into our 503 and to re-sign rotated cookies.
  const scope = new Proxy(app, {
    get: (target, key, receiver) =>
      key !== 'addHook'
        ? (Reflect.get(target, key, receiver) as unknown)
        : (hookName: string, hook: Hook) => {
            const wrap =
              hookName === 'onSend' ? onSend : hookName === 'onRequest' ? onRequest : undefined
            return target.addHook(
              hookName as 'onRequest',
              wrap === undefined ? hook : (wrap(hook) as Hook),
            )
          },
  })
  await new Promise<void>((resolve, reject) => {
    fastifySession(
      scope,
      {
        store: store as unknown as SessionStore,
        secret: runtime.signer,
        cookieName: name,
        cookiePrefix: 's:',
        cookie: { ...cookie },
        saveUninitialized: false,
        rolling: false,
      },
      (err?: Error) => (err ? reject(err) : resolve()),
    )
  })
}

/**
 * @fastify/session on Redis with the same options, cookie and stored JSON as the Express
 * `redisSession`, so one cookie works on both. Register it in the scope whose routes need
 * sessions; while Redis is down those answer a JSON 503 with `Retry-After`.
 *
 * @example
 * const redis = createRedisClient(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
 * await app.register(redisSessionPlugin, { redis, secret: process.env.SESSION_SECRET! })
 * app.post('/login', async (request) => { await request.session.regenerate(); ... })
 */
export const redisSessionPlugin: FastifyPluginAsync<RedisSessionOptions> = definePlugin(
  '@uptimekit/session',
  sessionPlugin,
)
export default redisSessionPlugin
