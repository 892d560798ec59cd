// The Express app: routes in, answers out. What each route does lives in
// service/api.mjs, shared with the Fastify example.
import { breakerGuard } from '@uptimekit/breaker/express'
import { healthRouter } from '@uptimekit/health/express'
import { createMetrics } from '@uptimekit/metrics'
import { metricsHandler, metricsMiddleware } from '@uptimekit/metrics/express'
import { redisSession } from '@uptimekit/session/express'
import express from 'express'
import session from 'express-session'
import { errorAnswer } from './service/api.mjs'
import { redisSessionOptions } from './service/sessions.mjs'

/** The session middleware: Redis through @uptimekit/session, or express-session's memory store. */
function sessionMiddleware(service) {
  const { config, sessions } = service
  if (sessions.kind === 'redis') return redisSession(redisSessionOptions(service))
  return session({
    secret: config.sessionSecret,
    name: 'connect.sid',
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: config.sessionTtlSeconds * 1000 },
  })
}

const regenerate = (req) =>
  new Promise((resolve, reject) => req.session.regenerate((e) => (e ? reject(e) : resolve())))
const destroy = (req) =>
  new Promise((resolve, reject) => req.session.destroy((e) => (e ? reject(e) : resolve())))

/** Builds the Express app for `service` (from service/service.mjs). */
export function createApp(service, { server } = {}) {
  const { api, config, health, breaker, registry } = service
  const metrics = createMetrics({ registry, token: config.metricsToken, server })
  const sessions = sessionMiddleware(service)
  const servedBy = config.instanceId ?? `express-${process.pid}`
  const reply = (res, { statusCode, headers = {}, body }) =>
    res.status(statusCode).set(headers).json(body)

  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', config.trustProxy)
  app.use((_req, res, next) => {
    res.set('x-served-by', servedBy)
    next()
  })
  app.use(healthRouter(health))
  app.use(metricsMiddleware(metrics))
  app.get(config.paths.metrics, metricsHandler(metrics))
  app.use(express.json({ limit: '16kb' }))

  app.get('/api/users/:id', async (req, res) => reply(res, await api.getUser(req.params.id)))

  app.post('/api/login', sessions, async (req, res) => {
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

  app.post('/api/payments', breakerGuard(breaker), async (req, res) =>
    reply(res, await api.pay(req.body)),
  )

  app.use((req, res) => res.status(404).json({ error: `no route ${req.method} ${req.path}` }))
  // Express 5 passes rejected handlers here; a bad JSON body arrives with status 400.
  app.use((error, _req, res, _next) => {
    const out = errorAnswer(error, error.status)
    if (out.statusCode === 500) service.logger.error({ error }, 'request failed')
    reply(res, out)
  })
  return app
}
