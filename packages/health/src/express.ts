import { writeAnswer } from '@uptimekit/internal'
import type { RequestHandler } from 'express'
import type { Health } from './health.js'

/**
 * Express middleware serving the probes of `health` at its `paths` for GET
 * and HEAD; every other request passes through. Query strings are ignored.
 * It takes no options of its own: paths, token and the rest are set on
 * `createHealth`, so Express and Fastify serve the same probes from one place.
 *
 * @example
 * ```ts
 * const health = createHealth({ checks: { redis: redisCheck(redis) } })
 * app.use(healthRouter(health))
 * ```
 */
export function healthRouter(health: Health): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next()
    const probe = health.probeAt(req.path)
    if (probe === undefined) return next()
    // Straight to node:http rather than res.send: no ETag (so no 304 hides a state change),
    // and the core's Content-Length, so an HTTP/1.0 keep-alive client keeps its connection.
    void health
      .answer(probe, { accept: req.headers.accept, authorization: req.headers.authorization })
      .then((answer) => writeAnswer(res, answer))
  }
}
