import type { RequestHandler } from 'express'
import {
  readAfterWrite,
  type ReadAfterWriteOptions,
  type TrackableReplicaSet,
} from './read-after-write.js'

export type { ReadAfterWriteOptions, TrackableReplicaSet } from './read-after-write.js'

/**
 * Keeps read-after-write for one client across requests: after a write in a request, a signed
 * cookie carries when it happened, and that client's reads go to the primary for
 * `readAfterWriteMs` (and then to replicas that had replayed past the write). Mount it after the
 * body parsers (they call `next()` from stream events, outside the request's tracking) and before
 * the routes that use the replica set.
 *
 * @example
 * ```ts
 * app.use(replicasMiddleware(db, { secret: process.env.REPLICAS_SECRET! }))
 * ```
 */
export function replicasMiddleware(
  db: TrackableReplicaSet,
  options: ReadAfterWriteOptions,
): RequestHandler {
  const core = readAfterWrite('replicasMiddleware', db, options)
  return (req, res, next) => {
    const setCookie = (cookie: string): void => {
      // A write after the response started can no longer reach this client's cookie.
      if (!res.headersSent)
        res.setHeader('set-cookie', core.merged(res.getHeader('set-cookie'), cookie))
    }
    core.run(core.begin(req.headers.cookie, setCookie), () => next())
  }
}
