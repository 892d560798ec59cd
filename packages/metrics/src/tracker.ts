import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { ServerResponse, type IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { methodIndex, type RequestSeries, type RouteSeries } from './request-series.js'

/** Status recorded when the connection closed before the response was complete (nginx's 499). */
export const CLIENT_CLOSED_STATUS = 499

/** Node publishes every finished server response here (node:http, Node >= 16.18). */
const RESPONSE_FINISH = 'http.server.response.finish'

/** Starts measuring responses; one per adapter instance. */
export interface RequestTracker {
  /**
   * Measures the response to `req` from now until it finishes or its connection closes: in-flight
   * gauge up now, down at the end, and one observation with the route (given now, or resolved at
   * the end), method and final status.
   */
  start(req: IncomingMessage, res: ServerResponse, route: RouteSeries | undefined): void
  /**
   * Stops measuring: later requests are not measured and responses still in flight are not
   * recorded.
   */
  close(): void
}

/** Finds the route of a request whose route was not known when it started (Express). */
export type LateRouteResolver = (req: IncomingMessage) => RouteSeries

/** What Node publishes on {@link RESPONSE_FINISH}. */
interface ResponseFinish {
  request: IncomingMessage
  response: ServerResponse
  socket: object | null
}

/**
 * The request being measured on one connection. One is made per connection and reused by each
 * request on it, so a request allocates nothing and registers no listener.
 */
class ConnectionSlot {
  request: IncomingMessage | undefined = undefined
  route: RouteSeries | undefined = undefined
  startedAt = 0
}

type SlottedSocket = Record<symbol, ConnectionSlot | undefined>

/**
 * Builds a tracker writing to `series`.
 *
 * Why not `res.on('close')`: Express re-prototypes every request and response, so a listener or
 * property added to them takes V8's slow paths (the per-response listener cost about 1 % of a bare
 * Express request in instructions; see the README's Benchmarks). The tracker instead keeps the
 * request on its connection (sockets keep one shape) and learns of the end from Node's own
 * `http.server.response.finish` diagnostics channel (one subscription for all requests), or from
 * the connection's `close` (one listener per connection), which is how an aborted request ends. A
 * request that arrives while the one before it on the same connection is still in flight (HTTP
 * pipelining), that is not served by Node's HTTP/1 server, or whose connection is already closed,
 * falls back to its own `close` listener.
 */
export function createTracker(
  series: RequestSeries,
  resolveLate: LateRouteResolver,
): RequestTracker {
  const key = Symbol('uptimekit.metrics.slot')
  let closed = false

  // The one place a measurement ends, so `close()` silences every path at once.
  function record(
    req: IncomingMessage,
    route: RouteSeries | undefined,
    since: number,
    status: number,
  ): void {
    if (closed) return
    series.inFlight--
    const seconds = (performance.now() - since) / 1000
    series.observe(route ?? resolveLate(req), methodIndex(req.method), status, seconds)
  }

  function end(slot: ConnectionSlot, request: IncomingMessage, status: number): void {
    slot.request = undefined
    record(request, slot.route, slot.startedAt, status)
  }

  function onFinish(message: unknown): void {
    const { request, response, socket } = message as ResponseFinish
    const slot = (socket as SlottedSocket | null)?.[key]
    // Another tracker's request, or one measured by its own listener: not this slot's.
    if (slot !== undefined && slot.request === request) end(slot, request, response.statusCode)
  }

  function trackAlone(req: IncomingMessage, res: ServerResponse, route: RouteSeries | undefined) {
    const startedAt = performance.now()
    // Closed already (the client left while an asynchronous middleware before ours ran): its
    // `close` has been emitted, so no listener would ever bring the in-flight gauge back down.
    if (res.destroyed) {
      record(req, route, startedAt, CLIENT_CLOSED_STATUS)
      return
    }
    // `close` fires exactly once, after `finish` or on an abort.
    res.once('close', () => {
      record(req, route, startedAt, res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS)
    })
  }

  subscribe(RESPONSE_FINISH, onFinish)

  return {
    start(req, res, route) {
      if (closed) return
      series.inFlight++
      const socket = req.socket
      // Node publishes the finish only for responses of its own HTTP/1 server: not for Fastify's
      // inject (a mock socket) nor for HTTP/2 (its own response class). A closed socket will not
      // emit `close` again.
      if (!(socket instanceof Socket && res instanceof ServerResponse) || socket.destroyed) {
        trackAlone(req, res, route)
        return
      }
      const slotted = socket as unknown as SlottedSocket
      let slot = slotted[key]
      if (slot === undefined) {
        const created = new ConnectionSlot()
        socket.once('close', () => {
          if (created.request !== undefined) end(created, created.request, CLIENT_CLOSED_STATUS)
        })
        slotted[key] = slot = created
      } else if (slot.request !== undefined) {
        trackAlone(req, res, route)
        return
      }
      slot.request = req
      slot.route = route
      slot.startedAt = performance.now()
    },
    close() {
      closed = true
      unsubscribe(RESPONSE_FINISH, onFinish)
    },
  }
}
