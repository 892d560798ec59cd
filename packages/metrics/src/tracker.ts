import type { ServerResponse } from 'node:http'
import { methodIndex, type RequestSeries, type RouteSeries } from './request-series.js'

/** Status recorded when the connection closed before the response was complete (nginx's 499). */
export const CLIENT_CLOSED_STATUS = 499

/** Starts measuring responses; one per adapter instance. */
export interface RequestTracker {
  /**
   * Measures `res` from now until its `close` event: in-flight gauge up now, down on close, and one
   * observation with the route (given now, or resolved at close), method and final status.
   */
  start(res: ServerResponse, route: RouteSeries | undefined): void
}

/** Finds the route of a response whose route was not known when it started (Express). */
export type LateRouteResolver = (res: ServerResponse) => RouteSeries

/** Builds a tracker writing to `series`. */
export function createTracker(
  series: RequestSeries,
  resolveLate: LateRouteResolver,
): RequestTracker {
  // Per-tracker keys: two instances on one response never read each other's start time.
  const startKey = Symbol('uptimekit.metrics.start')
  const routeKey = Symbol('uptimekit.metrics.route')
  type Tracked = ServerResponse & { [startKey]: number; [routeKey]: RouteSeries | undefined }

  // One listener shared by every response (`this` is the response): no closure per request.
  // `close` fires exactly once, after `finish` or on an abort, so each request counts once and the
  // in-flight gauge always comes back down, thrown handlers included.
  function onClose(this: Tracked): void {
    series.inFlight--
    const seconds = (performance.now() - this[startKey]) / 1000
    const status = this.writableFinished ? this.statusCode : CLIENT_CLOSED_STATUS
    const route = this[routeKey] ?? resolveLate(this)
    series.observe(route, methodIndex(this.req.method), status, seconds)
  }

  return {
    start(res, route) {
      const tracked = res as Tracked
      tracked[startKey] = performance.now()
      tracked[routeKey] = route
      series.inFlight++
      res.on('close', onClose)
    },
  }
}
