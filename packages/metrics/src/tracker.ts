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
  // `close` fires exactly once, after `finish` or on an abort, so each request counts once and the
  // in-flight gauge always comes back down, thrown handlers included.
  function finish(res: ServerResponse, startedAt: number, route: RouteSeries | undefined): void {
    series.inFlight--
    const seconds = (performance.now() - startedAt) / 1000
    const status = res.writableFinished ? res.statusCode : CLIENT_CLOSED_STATUS
    series.observe(route ?? resolveLate(res), methodIndex(res.req.method), status, seconds)
  }

  return {
    start(res, route) {
      const startedAt = performance.now()
      series.inFlight++
      // The start time rides in a closure, not on the response: Express re-prototypes every
      // response (Object.setPrototypeOf), so each property added to one builds a new hidden class,
      // which profiling showed costs far more per request than allocating this small closure.
      res.on('close', () => finish(res, startedAt, route))
    },
  }
}
