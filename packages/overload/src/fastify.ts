import type { FastifyPluginAsync } from 'fastify'
import { definePlugin, sendAnswer } from '@uptimekit/internal/fastify'
import { optionsObject } from '@uptimekit/internal'
import { overloadOption, priority, type OverloadPriority } from './options.js'
import type { Admission, Overload } from './overload.js'

/** Per-route overload settings: `{ config: { overload: { priority: 'critical' } } }`. */
export interface OverloadRouteOptions {
  /**
   * How readily this route's requests are shed.
   * @default 'normal'
   */
  priority?: OverloadPriority
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How `overloadPlugin` treats this route. */
    overload?: OverloadRouteOptions
  }
}

/** Options of `overloadPlugin`. */
export interface OverloadPluginOptions {
  /** The shedder every route goes through, from `createOverload()`. Closing it is left to you. */
  overload: Overload
}

/**
 * Fastify plugin that sheds what the service cannot serve in time, in an `onRequest` hook (so
 * before the body is read or any handler runs): 503 with `Retry-After` and the
 * `UPTIMEKIT_OVERLOADED` body. Probe and metrics paths pass untouched.
 *
 * @example
 * ```ts
 * await app.register(overloadPlugin, { overload })
 * app.post('/pay', { config: { overload: { priority: 'critical' } } }, payHandler)
 * ```
 */
export const overloadPlugin: FastifyPluginAsync<OverloadPluginOptions> = definePlugin(
  '@uptimekit/overload',
  (app, options: OverloadPluginOptions) => {
    const overload = overloadOption<Overload>('overload', options.overload)
    app.addHook('onRoute', (route) => {
      const config = route.config?.overload
      if (config === undefined) return
      const checked = optionsObject('config.overload', config, ['priority'], 'config.overload.')
      if (checked.priority !== undefined) priority('config.overload.priority', checked.priority)
    })
    app.addHook('onRequest', (request, reply, done) => {
      const respond = (admission: Admission): void => {
        if (admission.admitted) done()
        else sendAnswer(reply, admission.answer)
      }
      const config = request.routeOptions.config.overload
      const admission = overload.admit({ url: request.url, priority: config?.priority }, reply.raw)
      if (admission instanceof Promise) admission.then(respond, done)
      else respond(admission)
    })
  },
)

export default overloadPlugin
