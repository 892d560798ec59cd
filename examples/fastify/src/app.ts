// The Fastify app: the same routes and answers as the Express example; the
// framework-free half lives in @uptimekit/example-service.
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { breakerPlugin } from '@uptimekit/breaker/fastify'
import {
  answerClientError,
  type ApiAnswer,
  errorAnswer,
  type LoginSession,
  redisSessionOptions,
  type Service,
} from '@uptimekit/example-service'
import { healthPlugin } from '@uptimekit/health/fastify'
import { createMetrics } from '@uptimekit/metrics'
import { metricsPlugin } from '@uptimekit/metrics/fastify'
import { redisSessionPlugin } from '@uptimekit/session/fastify'
import { shutdownPlugin } from '@uptimekit/shutdown/fastify'
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify'

declare module 'fastify' {
  interface Session {
    user?: LoginSession['user']
    loginAt?: LoginSession['loginAt']
  }
}

/** Registers sessions on `scope`: Redis through @uptimekit/session, or @fastify/session in memory. */
async function registerSessions(scope: FastifyInstance, service: Service): Promise<void> {
  const { config, sessions, logger } = service
  if (sessions.kind === 'redis') {
    await scope.register(
      redisSessionPlugin,
      redisSessionOptions({ config, redis: sessions.redis, logger }),
    )
    return
  }
  await scope.register(fastifyCookie)
  await scope.register(fastifySession, {
    secret: config.sessionSecret,
    cookieName: 'connect.sid',
    saveUninitialized: false,
    cookie: {
      secure: false,
      httpOnly: true,
      sameSite: 'lax',
      maxAge: config.sessionTtlSeconds * 1000,
    },
  })
}

const reply = (res: FastifyReply, { statusCode, headers = {}, body }: ApiAnswer): FastifyReply =>
  res.code(statusCode).headers(headers).send(body)

/** Builds the Fastify app for `service`. */
export async function createApp(service: Service): Promise<FastifyInstance> {
  const { api, config, health, breaker, registry, logger } = service
  const servedBy = config.instanceId ?? `fastify-${process.pid}`

  const app = Fastify({
    trustProxy: config.trustProxy,
    // Longer than nginx's upstream keepalive_timeout (60 s), so an idle
    // connection is always closed by the proxy, never under it.
    keepAliveTimeout: config.keepAliveTimeoutMs,
    bodyLimit: 16_384,
    // Node-level client errors (400, 408, 431) answered as the Express example answers them.
    clientErrorHandler: answerClientError,
  })
  // Bodies are JSON only, as on the Express example: a text/plain body is a 415, not a string.
  app.removeContentTypeParser('text/plain')
  app.setNotFoundHandler((request, res) =>
    reply(res, {
      statusCode: 404,
      body: { error: `no route ${request.method} ${request.url.split('?')[0]}` },
    }),
  )
  // Before the routes: a route keeps the error handler in force when it is added.
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, res) => {
    const out = errorAnswer(error, error.statusCode)
    if (out.statusCode === 500) logger.error({ error }, 'request failed')
    return reply(res, out)
  })
  app.addHook('onRequest', async (_request, res) => {
    res.header('x-served-by', servedBy)
  })
  await app.register(healthPlugin, { health })
  await app.register(metricsPlugin, {
    metrics: createMetrics({ registry, token: config.metricsToken }),
  })
  await app.register(breakerPlugin)
  await app.register(shutdownPlugin, {
    readiness: health,
    drainDelayMs: config.drainDelayMs,
    timeoutMs: config.shutdownTimeoutMs,
    logger,
  })
  for (const [name, hook] of service.closeHooks) app.shutdown.onClose(name, hook)

  app.get<{ Params: { id: string } }>('/api/users/:id', async (request, res) =>
    reply(res, await api.getUser(request.params.id)),
  )
  app.post('/api/payments', { config: { breaker } }, async (request, res) =>
    reply(res, await api.pay(request.body)),
  )

  // Only these routes load sessions: the rest of the API keeps working when
  // Redis is down.
  await app.register(async (scope) => {
    await registerSessions(scope, service)
    scope.post('/api/login', async (request, res) => {
      const out = await api.login(request.body)
      if (out.session !== undefined) {
        await request.session.regenerate()
        Object.assign(request.session, out.session)
      }
      return reply(res, out)
    })
    scope.get('/api/profile', async (request, res) =>
      reply(res, api.profile(request.session.user, request.session.loginAt)),
    )
    scope.post('/api/logout', async (request, res) => {
      if (request.session.user !== undefined) await request.session.destroy()
      return res.code(204).send()
    })
  })

  return app
}
