import type { FastifyInstance, FastifyPluginCallback } from 'fastify'
import { fastifyPlugin } from 'fastify-plugin'
import type { ShutdownOptions } from './options.js'
import { type Shutdown, createShutdown } from './shutdown.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The graceful shutdown of this instance's server (from `@uptimekit/shutdown`). */
    shutdown: Shutdown
  }
}

function wireShutdown(
  app: FastifyInstance,
  options: ShutdownOptions,
  done: (err?: Error) => void,
): void {
  let shutdown: Shutdown
  try {
    shutdown = createShutdown(app.server, { ...options, logger: options.logger ?? app.log })
  } catch (err) {
    return done(err as Error)
  }
  // Runs once every connection is drained, so fastify.close() never meets a request and its
  // return503OnClosing never answers one; its onClose hooks run inside this first hook.
  shutdown.onClose('fastify', () => app.close())
  app.decorate('shutdown', shutdown)
  app.addHook('onClose', (_instance, next) => {
    shutdown.dispose()
    next()
  })
  done()
}

/**
 * Drains the Fastify server on SIGTERM/SIGINT: flips readiness, keeps serving for
 * `drainDelayMs`, drains every connection, then calls `fastify.close()` (its onClose hooks)
 * and the hooks added with `app.shutdown.onClose()`, and exits. Register before `listen()`.
 *
 * @example
 * ```ts
 * await app.register(shutdownPlugin, { readiness: health, drainDelayMs: 5000 })
 * app.shutdown.onClose('redis', () => redis.quit())
 * ```
 */
export const shutdownPlugin: FastifyPluginCallback<ShutdownOptions> = fastifyPlugin(wireShutdown, {
  fastify: '5.x',
  name: '@uptimekit/shutdown',
})

export default shutdownPlugin
