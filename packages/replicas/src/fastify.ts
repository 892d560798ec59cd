import { definePlugin } from '@uptimekit/internal/fastify'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { WriteTracking } from './replica-set.js'
import {
  readAfterWrite,
  type ReadAfterWriteOptions,
  type TrackableReplicaSet,
} from './read-after-write.js'

export type { ReadAfterWriteOptions, TrackableReplicaSet } from './read-after-write.js'

/** Options of {@link replicasPlugin}: the replica set and the cookie settings. */
export interface ReplicasPluginOptions extends ReadAfterWriteOptions {
  /** The replica set whose reads follow this client's writes. */
  db: TrackableReplicaSet
}

/**
 * Keeps read-after-write for one client across requests: after a write in a request, a signed
 * cookie carries when it happened, and that client's reads go to the primary for
 * `readAfterWriteMs` (and then to replicas that had replayed past the write).
 *
 * @example
 * ```ts
 * await app.register(replicasPlugin, { db, secret: process.env.REPLICAS_SECRET! })
 * ```
 */
export const replicasPlugin: FastifyPluginAsync<ReplicasPluginOptions> = definePlugin(
  '@uptimekit/replicas',
  (app, options: ReplicasPluginOptions) => {
    const { db, ...rest } = options
    const core = readAfterWrite('replicasPlugin', db, rest)
    const tracked = new WeakMap<FastifyRequest, WriteTracking>()
    app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const setCookie = (cookie: string): void => {
        if (reply.sent) return
        const merged = core.merged(reply.getHeader('set-cookie'), cookie)
        reply.removeHeader('set-cookie')
        reply.header('set-cookie', merged)
      }
      const tracking = core.begin(request.headers.cookie, setCookie)
      tracked.set(request, tracking)
      core.run(tracking, done)
    })
    // The body is parsed in stream callbacks, outside the context entered above: enter it again
    // for the hooks and the handler that follow.
    app.addHook(
      'preValidation',
      (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
        const tracking = tracked.get(request)
        if (tracking === undefined) done()
        else core.run(tracking, done)
      },
    )
  },
)
export default replicasPlugin
