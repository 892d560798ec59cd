import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { ServerResponse, type IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { monotonicMs } from '@uptimekit/internal'
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

/** A request waiting on its connection behind the one being answered (HTTP pipelining). */
interface Queued {
  readonly request: IncomingMessage
  readonly route: RouteSeries | undefined
  readonly startedAt: number
}

/**
 * The requests being measured on one connection: the one being answered in the slot's own
 * fields, and those pipelined behind it in `queue`. One slot is made per connection and reused by
 * each request on it, so a request that is not pipelined allocates nothing and registers no
 * listener.
 */
class ConnectionSlot {
  request: IncomingMessage | undefined = undefined
  route: RouteSeries | undefined = undefined
  startedAt = 0
  queue: Queued[] | undefined = undefined
}

type SlottedSocket = Record<symbol, ConnectionSlot | undefined>

/**
 * Builds a tracker writing to `series`.
 *
 * Why not `res.on('close')`: Express re-prototypes every request and response, so a listener or
 * property added to them takes V8's slow paths (the per-response listener cost about 1 % of a bare
 * Express request in instructions; see the README's Benchmarks). And Node never emits `close` for
 * a response queued behind another on a connection that died (pipelining), so a listener per
 * response would hold the in-flight gauge up for good. The tracker instead keeps the requests on
 * their connection (sockets keep one shape) and learns of each end from Node's own
 * `http.server.response.finish` diagnostics channel (one subscription for all requests), or from
 * the connection's `close` (one listener per connection), which ends every request still on it.
 * Requests not served by Node's HTTP/1 server (Fastify's inject, HTTP/2) get listeners of their
 * own.
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
    const seconds = (monotonicMs() - since) / 1000
    series.observe(route ?? resolveLate(req), methodIndex(req.method), status, seconds)
  }

  /** Ends the slot's current request and moves the next pipelined one up. */
  function endCurrent(slot: ConnectionSlot, status: number): void {
    const request = slot.request!
    const route = slot.route
    const startedAt = slot.startedAt
    const next = slot.queue?.shift()
    slot.request = next?.request
    slot.route = next?.route
    slot.startedAt = next?.startedAt ?? 0
    record(request, route, startedAt, status)
  }

  function onFinish(message: unknown): void {
    const { request, response, socket } = message as ResponseFinish
    const slot = (socket as SlottedSocket | null)?.[key]
    // Another tracker's request, or an unmeasured one: not in this slot.
    if (slot === undefined) return
    if (slot.request === request) {
      endCurrent(slot, response.statusCode)
      return
    }
    const queue = slot.queue
    const i = queue === undefined ? -1 : queue.findIndex((q) => q.request === request)
    if (i === -1) return
    const [queued] = queue!.splice(i, 1)
    record(request, queued!.route, queued!.startedAt, response.statusCode)
  }

  function onConnectionClose(slot: ConnectionSlot): void {
    while (slot.request !== undefined) endCurrent(slot, CLIENT_CLOSED_STATUS)
  }

  function trackAlone(req: IncomingMessage, res: ServerResponse, route: RouteSeries | undefined) {
    const startedAt = monotonicMs()
    // Closed already (the client left while an asynchronous middleware before ours ran): its
    // `close` has been emitted, so no listener would ever bring the in-flight gauge back down.
    if (res.destroyed) {
      record(req, route, startedAt, CLIENT_CLOSED_STATUS)
      return
    }
    // `finish` is the complete response (light-my-request emits it too, without finishing the
    // writable side); `close` without it is an abort.
    let finished = false
    res.once('finish', () => {
      finished = true
      record(req, route, startedAt, res.statusCode)
    })
    res.once('close', () => {
      if (!finished) record(req, route, startedAt, CLIENT_CLOSED_STATUS)
    })
  }

  subscribe(RESPONSE_FINISH, onFinish)

  return {
    start(req, res, route) {
      if (closed) return
      series.inFlight++
      const socket = req.socket
      // Node publishes the finish only for responses of its own HTTP/1 server: not for Fastify's
      // inject (a mock socket) nor for HTTP/2 (its own response class).
      if (!(socket instanceof Socket && res instanceof ServerResponse)) {
        trackAlone(req, res, route)
        return
      }
      // The connection is gone (the client left while an asynchronous middleware before ours
      // ran, or while this request waited behind others): it will not emit `close` again.
      if (socket.destroyed) {
        record(req, route, monotonicMs(), CLIENT_CLOSED_STATUS)
        return
      }
      const slotted = socket as unknown as SlottedSocket
      let slot = slotted[key]
      if (slot === undefined) {
        const created = new ConnectionSlot()
        socket.once('close', () => onConnectionClose(created))
        slotted[key] = slot = created
      } else if (slot.request !== undefined) {
        ;(slot.queue ??= []).push({ request: req, route, startedAt: monotonicMs() })
        return
      }
      slot.request = req
      slot.route = route
      slot.startedAt = monotonicMs()
    },
    close() {
      closed = true
      unsubscribe(RESPONSE_FINISH, onFinish)
    },
  }
}
