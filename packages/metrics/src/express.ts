import { Router, type RequestHandler } from 'express'
import { expressRouteResolver } from './express-route.js'
import { metricsFrom, type Metrics } from './metrics.js'
import type { MetricsOptions } from './options.js'

/**
 * Express middleware measuring every request (except excluded paths): duration histogram, request
 * counter and in-flight gauge, labelled by method, route template and status code. Mount it
 * before your routes.
 *
 * @example
 * ```ts
 * const metrics = createMetrics()
 * app.use(metricsMiddleware(metrics))
 * app.get('/metrics', metricsHandler(metrics))
 * ```
 */
export function metricsMiddleware(metrics?: Metrics | MetricsOptions): RequestHandler {
  const m = metricsFrom(metrics)
  const tracker = m.tracker(expressRouteResolver(m))
  return (req, res, next) => {
    if (!m.isExcluded(req.originalUrl)) tracker.start(res, undefined)
    next()
  }
}

/**
 * Express handler answering `/metrics` (token check and OpenMetrics negotiation included).
 *
 * @example
 * ```ts
 * app.get('/metrics', metricsHandler(metrics))
 * ```
 */
export function metricsHandler(metrics?: Metrics | MetricsOptions): RequestHandler {
  const m = metricsFrom(metrics)
  return (req, res, next) => {
    m.render({ accept: req.get('accept'), authorization: req.get('authorization') }).then(
      (answer) => {
        res.status(answer.statusCode).set(answer.headers).send(answer.body)
      },
      next,
    )
  }
}

/**
 * One router doing both: measures every request and serves `metricsPath` (default `/metrics`).
 *
 * @example
 * ```ts
 * app.use(expressMetrics({ token: process.env.METRICS_TOKEN }))
 * ```
 */
export function expressMetrics(metrics?: Metrics | MetricsOptions): Router {
  const m = metricsFrom(metrics)
  const router = Router()
  router.use(metricsMiddleware(m))
  router.get(m.metricsPath, metricsHandler(m))
  return router
}
