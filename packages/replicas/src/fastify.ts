import { definePlugin } from '@uptimekit/internal/fastify'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
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
    app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const setCookie = (cookie: string): void => {
        if (reply.sent) return
        const merged = core.merged(reply.getHeader('set-cookie'), cookie)
        reply.removeHeader('set-cookie')
        reply.header('set-cookie', merged)
      }
      // The rest of the request runs inside done(), so the tracking reaches the route handler.
      core.handle(request.headers.cookie, setCookie, done)
    })
  },
)
export default replicasPlugin
