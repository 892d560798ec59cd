// The Express app: routes in, answers out. What each route does lives in
// @uptimekit/example-service, shared with the Fastify example.
import type { Server } from 'node:http'
import { breakerGuard } from '@uptimekit/breaker/express'
import {
  answerClientError,
  type ApiAnswer,
  errorAnswer,
  type LoginSession,
  redisSessionOptions,
  type Service,
} from '@uptimekit/example-service'
import { healthRouter } from '@uptimekit/health/express'
import { createMetrics } from '@uptimekit/metrics'
import { metricsHandler, metricsMiddleware } from '@uptimekit/metrics/express'
import { redisSession } from '@uptimekit/session/express'
import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
} from 'express'
import session from 'express-session'

declare module 'express-session' {
  interface SessionData {
    user: LoginSession['user']
    loginAt: LoginSession['loginAt']
  }
}

/** The session middleware: Redis through @uptimekit/session, or express-session's memory store. */
function sessionMiddleware(service: Service): RequestHandler {
  const { config, sessions, logger } = service
  if (sessions.kind === 'redis') {
    return redisSession(redisSessionOptions({ config, redis: sessions.redis, logger }))
  }
  return session({
    secret: config.sessionSecret,
    name: 'connect.sid',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: config.sessionTtlSeconds * 1000 },
  })
}

const settle =
  (resolve: () => void, reject: (error: Error) => void) =>
  (error: unknown): void =>
    error === undefined || error === null ? resolve() : reject(error as Error)
const regenerate = (req: Request): Promise<void> =>
  new Promise((resolve, reject) => req.session.regenerate(settle(resolve, reject)))
const destroy = (req: Request): Promise<void> =>
  new Promise((resolve, reject) => req.session.destroy(settle(resolve, reject)))

const reply = (res: Response, { statusCode, headers = {}, body }: ApiAnswer): void => {
  res.status(statusCode).set(headers).json(body)
}

// Bodies are read only where a route takes one, and only as JSON: a GET's body is ignored and a
// body of another type is a 415, as Fastify does.
const json = express.json({ limit: '16kb' })
const jsonBody: RequestHandler = (req, res, next) => {
  if (req.is('application/json') === false) {
    reply(res, errorAnswer(undefined, 415))
    return
  }
  json(req, res, next)
}

/** Node-level client errors (400, 408, 431) answered as the Fastify example answers them. */
export function answerClientErrors(server: Server): void {
  server.on('clientError', answerClientError)
}

/** Builds the Express app for `service`. */
export function createApp(service: Service, { server }: { server?: Server } = {}): express.Express {
  const { api, config, health, breaker, registry } = service
  const metrics = createMetrics({ registry, token: config.metricsToken, server })
  const sessions = sessionMiddleware(service)
  const servedBy = config.instanceId ?? `express-${process.pid}`

  const app = express()
  app.disable('x-powered-by')
  // `/metrics/` is not `/metrics`, as on Fastify.
  app.set('strict routing', true)
  app.set('trust proxy', config.trustProxy)
  app.use((_req, res, next) => {
    res.set('x-served-by', servedBy)
    next()
  })
  app.use(healthRouter(health))
  app.use(metricsMiddleware(metrics))
  app.get(config.paths.metrics, metricsHandler(metrics))

  app.get('/api/users/:id', async (req, res) => reply(res, await api.getUser(req.params.id)))

  app.post('/api/login', jsonBody, sessions, async (req, res) => {
    const out = await api.login(req.body)
    if (out.session !== undefined) {
      // A fresh session id at login: a cookie planted before login is worthless after it.
      await regenerate(req)
      Object.assign(req.session, out.session)
    }
    reply(res, out)
  })
  app.get('/api/profile', sessions, (req, res) =>
    reply(res, api.profile(req.session.user, req.session.loginAt)),
  )
  app.post('/api/logout', sessions, async (req, res) => {
    if (req.session.user !== undefined) await destroy(req)
    res.status(204).end()
  })

  app.post('/api/payments', jsonBody, breakerGuard(breaker), async (req, res) =>
    reply(res, await api.pay(req.body)),
  )

  app.use((req, res) =>
    reply(res, { statusCode: 404, body: { error: `no route ${req.method} ${req.path}` } }),
  )
  // Express 5 passes rejected handlers here; a bad JSON body arrives with status 400.
  const onError: ErrorRequestHandler = (error: Error & { status?: number }, _req, res, _next) => {
    const out = errorAnswer(error, error.status)
    if (out.statusCode === 500) service.logger.error({ error }, 'request failed')
    reply(res, out)
  }
  app.use(onError)
  return app
}
