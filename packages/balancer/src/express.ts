import type { RequestHandler } from 'express'
import type { Dispatcher } from 'undici'
import { createProxy, type ProxyOptions } from './proxy.js'

/**
 * An Express handler that proxies every request it gets to the balancer, as nginx's
 * `proxy_pass`: the full original URL, `X-Forwarded-*` and `X-Real-IP` set, bodies streamed.
 * Mount it before any body parser, which would consume the request body.
 *
 * @example
 * ```ts
 * app.use('/api', proxyHandler(createBalancer({ upstreams: ['http://10.0.0.1:3000'] })))
 * ```
 * @throws InvalidOptionError for a bad option.
 */
export function proxyHandler(balancer: Dispatcher, options?: ProxyOptions): RequestHandler {
  const proxy = createProxy('proxyHandler', balancer, options)
  return (req, res) => {
    proxy(req, res, req.originalUrl)
  }
}

export type { ProxyOptions } from './proxy.js'
