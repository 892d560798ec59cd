import type { RequestHandler } from 'express'
import { expressRouteResolver } from './express-route.js'
import { metricsFrom, type Metrics } from './metrics.js'
import type { MetricsOptions } from './options.js'
import { pathTest } from './path-test.js'

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
    if (!m.isExcluded(req.originalUrl)) tracker.start(req, res, undefined)
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
 * One handler doing both: serves `metricsPath` (default `/metrics`, GET and HEAD, matched exactly
 * as the Fastify plugin does) and measures every other request. It is a single middleware rather
 * than a `Router`: a nested router runs its own dispatch loop on every request.
 *
 * @example
 * ```ts
 * app.use(expressMetrics({ token: process.env.METRICS_TOKEN }))
 * ```
 */
export function expressMetrics(metrics?: Metrics | MetricsOptions): RequestHandler {
  const m = metricsFrom(metrics)
  const measure = metricsMiddleware(m)
  const answer = metricsHandler(m)
  const isMetricsPath = pathTest(new Set([m.metricsPath]))
  return (req, res, next) => {
    // The path test first: it rejects nearly every URL on one character, so most requests skip
    // the method check.
    if (isMetricsPath(req.url) && (req.method === 'GET' || req.method === 'HEAD')) {
      answer(req, res, next)
    } else {
      measure(req, res, next)
    }
  }
}
