import { type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Express } from 'express'
import { type Shutdown, createShutdown } from './shutdown.js'
import type { ShutdownOptions } from './options.js'

/** Options of {@link listenWithShutdown}: where to listen, plus every shutdown option. */
export interface ListenWithShutdownOptions extends ShutdownOptions {
  /**
   * TCP port to listen on; `0` picks a free one.
   * @default 3000
   */
  port?: number
  /**
   * Address to bind.
   * @default all interfaces, as `app.listen(port)` does
   */
  host?: string
}

/** A listening Express server and its shutdown. */
export interface ListeningServer {
  /** The node:http server running the app. */
  server: Server
  /** Its graceful shutdown: add close hooks with `shutdown.onClose()`. */
  shutdown: Shutdown
  /** The port actually bound (useful with `port: 0`). */
  port: number
}

/**
 * Starts `app` on a node:http server with its graceful shutdown already attached, so no
 * connection is ever accepted untracked; rejects (and detaches) if the port cannot be bound,
 * where `app.listen()` would only emit an error event. Options are checked before listening.
 *
 * @example
 * ```ts
 * const { shutdown } = await listenWithShutdown(app, { port: 3000, readiness: health })
 * shutdown.onClose('redis', () => redis.quit())
 * ```
 */
export function listenWithShutdown(
  app: Express,
  options: ListenWithShutdownOptions = {},
): Promise<ListeningServer> {
  const { port = 3000, host, ...shutdownOptions } = options
  const server = createServer(app)
  const shutdown = createShutdown(server, shutdownOptions)
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      shutdown.dispose()
      reject(err)
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve({ server, shutdown, port: (server.address() as AddressInfo).port })
    })
  })
}
