import type { FastifyInstance, FastifyPluginCallback } from 'fastify'
import fp from 'fastify-plugin'
import { metricsFrom, type Metrics } from './metrics.js'
import type { MetricsOptions } from './options.js'

/** Options of {@link metricsPlugin}: a `Metrics` instance, or options to create one. */
export type MetricsPluginOptions = MetricsOptions | { metrics: Metrics }

function instanceFrom(options: MetricsPluginOptions): Metrics {
  return 'metrics' in options ? options.metrics : metricsFrom(options)
}

function plugin(app: FastifyInstance, options: MetricsPluginOptions, done: (err?: Error) => void) {
  const metrics = instanceFrom(options)
  const tracker = metrics.tracker()
  const stopObserving = metrics.observeServer(app.server)
  app.addHook('onRequest', (request, reply, next) => {
    if (!metrics.isExcluded(request.url)) {
      tracker.start(request.raw, reply.raw, metrics.route(request.routeOptions.url))
    }
    next()
  })
  app.get(metrics.metricsPath, async (request, reply) => {
    const answer = await metrics.render({
      accept: request.headers.accept,
      authorization: request.headers.authorization,
    })
    return reply.code(answer.statusCode).headers(answer.headers).send(answer.body)
  })
  app.addHook('onClose', (_app, next) => {
    stopObserving()
    tracker.close()
    next()
  })
  done()
}

/**
 * Fastify plugin measuring every request (route template from `routeOptions.url`, prefixes
 * included), observing `fastify.server`'s open connections and serving `metricsPath`.
 *
 * @example
 * ```ts
 * await app.register(metricsPlugin, { prefix: 'api_', token: process.env.METRICS_TOKEN })
 * ```
 */
export const metricsPlugin: FastifyPluginCallback<MetricsPluginOptions> = fp(plugin, {
  fastify: '5.x',
  name: '@uptimekit/metrics',
})

export default metricsPlugin
