import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { fastifyPlugin as fp } from 'fastify-plugin'
import { createHealth, type Health } from './health.js'
import type { HealthOptions } from './options.js'

/** Options of `healthPlugin`: an existing `health`, or the options to create one. */
export interface HealthPluginOptions extends HealthOptions {
  /**
   * The health service to serve; the plugin then leaves closing it to you.
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

// async with nothing to await: a bad option must reject the registration, not throw out of avvio.
// eslint-disable-next-line @typescript-eslint/require-await
async function serveProbes(app: FastifyInstance, options: HealthPluginOptions): Promise<void> {
  const { health: given, ...healthOptions } = options
  const health = given ?? createHealth(healthOptions)
  if (given === undefined) app.addHook('onClose', () => health.close())
  app.decorate('health', health)
  for (const [url, probe] of health.routes) {
    app.route({
      method: ['GET', 'HEAD'],
      url,
      // Probes hit every few seconds from every load balancer: keep them out of info logs.
      logLevel: 'warn',
      handler: async (req, reply) => {
        const out = await health.answer(probe, {
          accept: req.headers.accept,
          authorization: req.headers.authorization,
        })
        // A Buffer, because Fastify appends a charset to string bodies and the IETF type has none.
        return reply.code(out.statusCode).headers(out.headers).send(Buffer.from(out.body))
      },
    })
  }
}

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
export const healthPlugin: FastifyPluginAsync<HealthPluginOptions> = fp(serveProbes, {
  fastify: '5.x',
  name: '@uptimekit/health',
})

export default healthPlugin
