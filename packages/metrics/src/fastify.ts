import { InvalidOptionError, shown } from '@uptimekit/internal'
import { definePlugin, pluginLogger, sendAnswer } from '@uptimekit/internal/fastify'
import type { FastifyPluginAsync } from 'fastify'
import { createMetrics, metricsOption, type Metrics } from './metrics.js'
import { PACKAGE_NAME, type MetricsOptions } from './options.js'

/** Options of {@link metricsPlugin}: options to create the metrics with, or an instance. */
export interface MetricsPluginOptions extends MetricsOptions {
  /**
   * The instance to serve and write to; the plugin then takes no other option (they belong to
   * `createMetrics`).
   * @default a new `createMetrics(options)`
   */
  metrics?: Metrics
}

/**
 * Fastify plugin measuring every request (route template from `routeOptions.url`, prefixes
 * included), observing `fastify.server`'s open connections and serving `metricsPath`. A bad
 * option makes `register()` and `ready()` reject.
 *
 * @example
 * ```ts
 * await app.register(metricsPlugin, { prefix: 'api_', token: process.env.METRICS_TOKEN })
 * ```
 */
export const metricsPlugin: FastifyPluginAsync<MetricsPluginOptions> =
  definePlugin<MetricsPluginOptions>(PACKAGE_NAME, (app, options) => {
    const { metrics: given, ...metricsOptions } = options
    const [extra] = Object.keys(metricsOptions)
    if (given !== undefined && extra !== undefined) {
      const got = shown((metricsOptions as Record<string, unknown>)[extra])
      throw new InvalidOptionError(extra, 'is set on createMetrics, not beside `metrics`', got)
    }
    const { metrics, core } = metricsOption(
      given ??
        createMetrics({
          ...metricsOptions,
          logger: pluginLogger(app, metricsOptions.logger, PACKAGE_NAME),
        }),
    )
    const tracker = core.tracker()
    const stopObserving = metrics.observeServer(app.server)
    app.addHook('onRequest', (request, reply, next) => {
      if (!core.isExcluded(request.url)) {
        tracker.start(request.raw, reply.raw, core.route(request.routeOptions.url))
      }
      next()
    })
    app.get(metrics.metricsPath, async (request, reply) => {
      const answer = await metrics.render({
        accept: request.headers.accept,
        authorization: request.headers.authorization,
      })
      return sendAnswer(reply, answer)
    })
    app.addHook('onClose', (_app, next) => {
      stopObserving()
      tracker.close()
      next()
    })
  })

export default metricsPlugin
