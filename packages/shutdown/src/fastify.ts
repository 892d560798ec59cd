import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { definePlugin, pluginLogger } from '@uptimekit/internal/fastify'
import { PACKAGE_NAME, type ShutdownOptions } from './options.js'
import { type Shutdown, createShutdown } from './shutdown.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The graceful shutdown of this instance's server (from `@uptimekit/shutdown`). */
    shutdown: Shutdown
  }
}

function wireShutdown(app: FastifyInstance, options: ShutdownOptions): void {
  const shutdown = createShutdown(app.server, {
    ...options,
    logger: pluginLogger(app, options.logger, PACKAGE_NAME),
  })
  // Runs once every connection is drained, so fastify.close() never meets a request and its
  // return503OnClosing never answers one; its onClose hooks run inside this first hook.
  shutdown.onClose('fastify', () => app.close())
  app.decorate('shutdown', shutdown)
  app.addHook('onClose', (_instance, next) => {
    shutdown.dispose()
    next()
  })
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
export const shutdownPlugin: FastifyPluginAsync<ShutdownOptions> = definePlugin(
  PACKAGE_NAME,
  wireShutdown,
)

export default shutdownPlugin
