import { definePlugin } from '@uptimekit/internal/fastify'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { optionsObject, text } from '@uptimekit/internal'
import type { Dispatcher } from 'undici'
import { createProxy, PROXY_KEYS, type ProxyOptions } from './proxy.js'

/** Options of `proxyPlugin`. */
export interface ProxyPluginOptions extends ProxyOptions {
  /** The balancer requests go to (any undici `Dispatcher`). */
  balancer: Dispatcher
  /**
   * Path prefix proxied, e.g. `/api`: the prefix and everything under it. The path is passed on
   * unchanged, prefix included.
   * @default '/'
   */
  prefix?: string
}

/**
 * A Fastify plugin that proxies every request under `prefix` to the balancer, as nginx's
 * `proxy_pass`. Its routes take bodies unparsed (streamed upstream), in a scope of their own.
 *
 * @example
 * ```ts
 * await app.register(proxyPlugin, { balancer, prefix: '/api' })
 * ```
 */
export const proxyPlugin: FastifyPluginAsync<ProxyPluginOptions> = definePlugin<ProxyPluginOptions>(
  '@uptimekit/balancer',
  async (app, options) => {
    const {
      balancer,
      prefix = '/',
      ...rest
    } = optionsObject('proxyPlugin', options, ['balancer', 'prefix', ...PROXY_KEYS])
    const path = text('prefix', prefix).replace(/\/+$/, '')
    const proxy = createProxy('proxyPlugin', balancer, rest)
    await app.register((scope, _options, done) => {
      scope.removeAllContentTypeParsers()
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null))
      const forward = (request: FastifyRequest, reply: FastifyReply): void => {
        reply.hijack()
        proxy(request.raw, reply.raw, request.raw.url ?? '/')
      }
      scope.all(`${path}/*`, forward)
      if (path !== '') scope.all(path, forward)
      done()
    })
  },
)

export default proxyPlugin
export type { ProxyOptions } from './proxy.js'
