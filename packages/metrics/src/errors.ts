import { hasCode, UptimekitError } from '@uptimekit/internal'

export { InvalidOptionError, isInvalidOptionError } from '@uptimekit/internal'

/**
 * The codes of the house error bodies (`{ statusCode, code, error, message }`) `/metrics` answers
 * with, and their HTTP status: the one table the core answers errors from.
 */
export const ERROR_STATUS: {
  /** The bearer token is missing or wrong. */
  readonly UPTIMEKIT_METRICS_UNAUTHORIZED: 401
  /** A collector threw while the registry rendered (the error is logged). */
  readonly UPTIMEKIT_METRICS_RENDER_FAILED: 500
  /** Cluster aggregation: a worker did not answer before the deadline. */
  readonly UPTIMEKIT_METRICS_CLUSTER_TIMEOUT: 504
} = Object.freeze({
  UPTIMEKIT_METRICS_UNAUTHORIZED: 401,
  UPTIMEKIT_METRICS_RENDER_FAILED: 500,
  UPTIMEKIT_METRICS_CLUSTER_TIMEOUT: 504,
})

/** A code of {@link ERROR_STATUS}. */
export type MetricsErrorCode = keyof typeof ERROR_STATUS

/** A cluster worker did not send its metrics before the primary's deadline (the scrape answers 504). */
export class ClusterTimeoutError extends UptimekitError {
  /** Stable code: `UPTIMEKIT_METRICS_CLUSTER_TIMEOUT`. */
  static override readonly code: string = 'UPTIMEKIT_METRICS_CLUSTER_TIMEOUT'

  /**
   * @param workerId - the `node:cluster` id of the worker that did not answer
   * @param timeoutMs - the deadline that passed, in milliseconds
   */
  constructor(workerId: number, timeoutMs: number) {
    super(ClusterTimeoutError.code, `worker ${workerId} did not answer within ${timeoutMs} ms`)
  }
}

/** Whether `err` is a {@link ClusterTimeoutError} from any loaded copy of this package. */
export const isClusterTimeoutError = (err: unknown): err is ClusterTimeoutError =>
  hasCode(err, ClusterTimeoutError.code)
