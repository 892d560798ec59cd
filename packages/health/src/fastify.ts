import { InvalidOptionError, shown } from '@uptimekit/internal'
import { definePlugin, pluginLogger, sendAnswer } from '@uptimekit/internal/fastify'
import type { FastifyPluginAsync } from 'fastify'
import { createHealth, type Health } from './health.js'
import type { HealthOptions } from './options.js'

/** Options of `healthPlugin`: an existing `health`, or the options to create one. */
export interface HealthPluginOptions extends HealthOptions {
  /**
   * The health service to serve; the plugin then leaves closing it to you, and takes no other
   * option (they belong to `createHealth`).
   * @default a new `createHealth(options)`, closed with the app
   */
  health?: Health
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The health service the probes answer from (`healthPlugin`). */
    health: Health
  }
}

const NAME = '@uptimekit/health'

/**
 * Fastify plugin serving the probes at the health service's `paths`; works
 * bare (`app.register(healthPlugin)`: probes with no checks).
 *
 * @example
 * ```ts
 * const health = createHealth({ checks: { redis: redisCheck(redis) } })
 * await app.register(healthPlugin, { health })
 * ```
 */
export const healthPlugin: FastifyPluginAsync<HealthPluginOptions> =
  definePlugin<HealthPluginOptions>(NAME, (app, options) => {
    const { health: given, ...healthOptions } = options
    const [extra] = Object.keys(healthOptions)
    if (given !== undefined && extra !== undefined) {
      const got = shown((healthOptions as Record<string, unknown>)[extra])
      throw new InvalidOptionError(extra, 'is set on createHealth, not beside `health`', got)
    }
    const health =
      given ??
      createHealth({ ...healthOptions, logger: pluginLogger(app, healthOptions.logger, NAME) })
    if (given === undefined) app.addHook('onClose', () => health.close())
    app.decorate('health', health)
    for (const [url, probe] of health.routes) {
      app.route({
        method: ['GET', 'HEAD'],
        url,
        // Probes hit every few seconds from every load balancer: keep them out of info logs.
        logLevel: 'warn',
        handler: async (req, reply) => {
          const { accept, authorization } = req.headers
          return sendAnswer(reply, await health.answer(probe, { accept, authorization }))
        },
      })
    }
  })

export default healthPlugin
