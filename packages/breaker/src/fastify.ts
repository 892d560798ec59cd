import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import { fastifyPlugin as fp } from 'fastify-plugin'
import type { CircuitBreaker } from './breaker.js'
import type { CircuitOpenError } from './errors.js'
import type { GuardOptions } from './options.js'
import { assertBreaker, createRouteGuard, type GuardEntry } from './route-guard.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Runs this route inside the breaker's accounting (needs `breakerPlugin` registered). */
    breaker?: CircuitBreaker
  }
}

/** Options of `breakerPlugin`. */
export interface BreakerPluginOptions extends GuardOptions {
  /**
   * Answers a request the circuit rejected instead of the default 503 (e.g. queue the work and
   * answer 202). It must send the reply.
   * @default undefined (answer 503 with Retry-After)
   */
  onOpen?: (request: FastifyRequest, reply: FastifyReply, error: CircuitOpenError) => unknown
}

function guardRoutes(app: FastifyInstance, options: BreakerPluginOptions, done: () => void): void {
  const guard = createRouteGuard(options)
  const { onOpen } = options
  const admitted = new WeakMap<FastifyRequest, Extract<GuardEntry, { admitted: true }>>()
  app.addHook('onRoute', (route) => {
    if (route.config?.breaker !== undefined) assertBreaker(route.config.breaker, 'config.breaker')
  })
  app.addHook('onRequest', async (request, reply) => {
    const { breaker } = request.routeOptions.config
    if (breaker === undefined) return
    const entry = guard.enter(breaker, reply.raw)
    if (entry.admitted) {
      admitted.set(request, entry)
      return
    }
    if (onOpen !== undefined) {
      await onOpen(request, reply, entry.error)
      return reply
    }
    return reply.code(entry.answer.statusCode).headers(entry.answer.headers).send(entry.answer.body)
  })
  app.addHook('onError', async (request, _reply, error) => {
    admitted.get(request)?.recordError(error)
  })
  done()
}

/**
 * Fastify plugin that guards every route whose config names a breaker:
 * `app.post('/pay', { config: { breaker: payments } }, handler)`. Same behaviour and the same
 * 503 as the Express `breakerGuard`; a thrown error is judged by the breaker's `isFailure`.
 *
 * @example
 * ```ts
 * await app.register(breakerPlugin)
 * app.post('/pay', { config: { breaker: payments } }, payHandler)
 * ```
 */
export const breakerPlugin: FastifyPluginCallback<BreakerPluginOptions> = fp(guardRoutes, {
  fastify: '5.x',
  name: '@uptimekit/breaker',
})

export default breakerPlugin
