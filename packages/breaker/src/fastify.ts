import { definePlugin, sendAnswer } from '@uptimekit/internal/fastify'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { CircuitOpenError } from './errors.js'
import type { GuardOptions } from './options.js'
import {
  assertBreaker,
  createRouteGuard,
  type GuardEntry,
  type GuardedBreaker,
} from './route-guard.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Runs this route inside the breaker's accounting (needs `breakerPlugin` registered): a
     * `CircuitBreaker`, or anything with its `tryAcquire()` and `countsAsFailure()`.
     */
    breaker?: GuardedBreaker
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

type OnOpen = NonNullable<BreakerPluginOptions['onOpen']>

/**
 * Fastify plugin that guards every route whose config names a breaker:
 * `app.post('/pay', { config: { breaker: payments } }, handler)`. Same behaviour and the same
 * 503 as the Express `breakerGuard`; a thrown error is judged by the breaker's `isFailure`. A
 * bad option makes `register()` / `ready()` reject.
 *
 * @example
 * ```ts
 * await app.register(breakerPlugin)
 * app.post('/pay', { config: { breaker: payments } }, payHandler)
 * ```
 */
export const breakerPlugin: FastifyPluginAsync<BreakerPluginOptions> = definePlugin(
  '@uptimekit/breaker',
  (app, options: BreakerPluginOptions) => {
    const guard = createRouteGuard<OnOpen>('breakerPlugin', options)
    const { onOpen } = guard
    const admitted = new WeakMap<FastifyRequest, Extract<GuardEntry, { admitted: true }>>()
    app.addHook('onRoute', (route) => {
      if (route.config?.breaker !== undefined) assertBreaker(route.config.breaker, 'config.breaker')
    })
    app.addHook('onRequest', async (request, reply) => {
      const { breaker } = request.routeOptions.config
      if (breaker === undefined) return
      const entry = guard.enter(breaker, reply.raw, request.raw.socket)
      if (entry.admitted) {
        admitted.set(request, entry)
        return
      }
      if (onOpen === undefined) return sendAnswer(reply, entry.answer)
      await onOpen(request, reply, entry.error)
      return reply
    })
    app.addHook('onError', async (request, _reply, error) => {
      admitted.get(request)?.recordError(error)
    })
  },
)

export default breakerPlugin
