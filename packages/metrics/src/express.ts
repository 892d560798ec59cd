import { writeAnswer } from '@uptimekit/internal'
import type { RequestHandler } from 'express'
import { expressRouteResolver } from './express-route.js'
import { metricsFrom, type Metrics, type MetricsCore } from './metrics.js'
import type { MetricsOptions } from './options.js'

function measuring(core: MetricsCore): RequestHandler {
  // The app this middleware runs in, read from the first request only (each read of Express's
  // re-prototyped request is slow): the route search of a sub-app mounted inside a router starts there.
  let root: unknown
  const tracker = core.tracker(expressRouteResolver(core, () => root))
  return (req, res, next) => {
    root ??= req.app
    if (!core.isExcluded(req.originalUrl)) tracker.start(req, res, undefined)
    next()
  }
}

function answering(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const request = { accept: req.headers.accept, authorization: req.headers.authorization }
    metrics.render(request).then((answer) => writeAnswer(res, answer), next)
  }
}

/**
 * Express middleware measuring every request (except excluded paths): duration histogram, request
 * counter and in-flight gauge, labelled by method, route template and status code. Mount it
 * before your routes. Takes a `createMetrics()` instance, or options that name the `registry`
 * its `metricsHandler` reads.
 *
 * @example
 * ```ts
 * const metrics = createMetrics()
 * app.use(metricsMiddleware(metrics))
 * app.get('/metrics', metricsHandler(metrics))
 * ```
 */
export function metricsMiddleware(metrics?: Metrics | MetricsOptions): RequestHandler {
  return measuring(metricsFrom(metrics, 'metricsMiddleware', true).core)
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
  return answering(metricsFrom(metrics, 'metricsHandler', true).metrics)
}

/**
 * One middleware doing both: serves `metricsPath` (default `/metrics`, GET and HEAD, matched
 * exactly as the Fastify plugin does) and measures every other request. It is a single
 * middleware rather than a `Router`: a nested router runs its own dispatch loop on every request.
 *
 * @example
 * ```ts
 * app.use(expressMetrics({ token: process.env.METRICS_TOKEN }))
 * ```
 */
export function expressMetrics(metrics?: Metrics | MetricsOptions): RequestHandler {
  const { metrics: m, core } = metricsFrom(metrics, 'expressMetrics', false)
  const measure = measuring(core)
  const answer = answering(m)
  return (req, res, next) => {
    // The path test first: it rejects nearly every URL on one character, so most requests skip
    // the method check.
    if (core.isMetricsPath(req.url) && (req.method === 'GET' || req.method === 'HEAD')) {
      answer(req, res, next)
    } else {
      measure(req, res, next)
    }
  }
}
