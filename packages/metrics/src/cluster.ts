import cluster, { type Worker } from 'node:cluster'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  bearerMatcher,
  bool,
  errorText,
  milliseconds,
  optional,
  optionsObject,
  resolveLogger,
  writeAnswer,
  type HttpAnswer,
  type LoggerOption,
} from '@uptimekit/internal'
import { ClusterTimeoutError } from './errors.js'
import type { Metrics } from './metrics.js'
import { checkPromClient, checkRegistry, PACKAGE_NAME } from './options.js'
import {
  aggregateFamilies,
  peerPromClient,
  type PromClientLike,
  type RegistryLike,
} from './prom-client.js'
import { scrapeAnswerer, type MetricsRequest } from './scrape-answer.js'

const OPTION_KEYS: readonly string[] = Object.freeze([
  'promClient',
  'timeoutMs',
  'token',
  'openMetrics',
  'logger',
])
/** Default `timeoutMs` of {@link createClusterMetrics}. */
const DEFAULT_TIMEOUT_MS = 2000

const REQUEST = 'uptimekit:metrics:collect'
const REPLY = 'uptimekit:metrics:collected'

interface CollectRequest {
  type: typeof REQUEST
  id: number
}
interface CollectReply {
  type: typeof REPLY
  id: number
  families?: unknown[]
  error?: string
}

/**
 * In a `node:cluster` worker: answers the primary's collect requests with this registry's metrics
 * (`getMetricsAsJSON()`), so {@link createClusterMetrics} can sum them. Outside a worker it does
 * nothing.
 *
 * @returns a function that stops answering
 */
export function shareClusterMetrics(source: Metrics | RegistryLike): () => void {
  const registry = checkRegistry('registry' in source ? source.registry : source, 'source')
  const send = process.send?.bind(process)
  if (!cluster.isWorker || send === undefined) return () => {}
  const onMessage = (message: unknown): void => {
    const request = message as Partial<CollectRequest> | null
    if (request?.type !== REQUEST || typeof request.id !== 'number') return
    const id = request.id
    registry.getMetricsAsJSON().then(
      (families) => send({ type: REPLY, id, families } satisfies CollectReply),
      (err: unknown) => send({ type: REPLY, id, error: errorText(err) } satisfies CollectReply),
    )
  }
  process.on('message', onMessage)
  return () => {
    process.off('message', onMessage)
  }
}

/** Options of {@link createClusterMetrics}. */
export interface ClusterMetricsOptions {
  /**
   * The prom-client module whose `AggregatorRegistry.aggregate` sums the workers' metrics.
   * @default the `prom-client` peer dependency
   */
  promClient?: PromClientLike
  /**
   * Longest the primary waits for every worker, in milliseconds (at most 2^31-1); past it the
   * scrape answers 504.
   * @default 2000
   */
  timeoutMs?: number
  /**
   * Bearer token the primary's `/metrics` requires (as in `createMetrics`).
   * @default undefined
   */
  token?: string
  /**
   * Answer in OpenMetrics when the scraper asks for it.
   * @default true
   */
  openMetrics?: boolean
  /**
   * Where render errors go: a pino-shaped logger, or `false`.
   * @default one JSON line per event on stderr
   */
  logger?: LoggerOption
}

/** The primary's side of cluster aggregation. */
export interface ClusterMetrics {
  /** Collects every worker's metrics, sums them and answers like `metrics.render()`. */
  render(request: MetricsRequest): Promise<HttpAnswer>
  /** A `node:http` request listener answering every request with {@link ClusterMetrics.render}. */
  handler(req: IncomingMessage, res: ServerResponse): void
}

/**
 * In the `node:cluster` primary: a `/metrics` answer that asks every live worker for its metrics
 * (workers call {@link shareClusterMetrics}) and sums them with prom-client's aggregator: counters,
 * histograms and the in-flight gauge add up, default metrics use their own aggregators. No state
 * outside the returned object: concurrent scrapes each have their own request id.
 *
 * @example
 * ```ts
 * if (cluster.isPrimary) {
 *   const clusterMetrics = createClusterMetrics()
 *   http.createServer(clusterMetrics.handler).listen(9464)
 * } else {
 *   shareClusterMetrics(metrics)
 * }
 * ```
 */
export function createClusterMetrics(options?: ClusterMetricsOptions): ClusterMetrics {
  const o = optionsObject('createClusterMetrics', options, OPTION_KEYS)
  const client = o.promClient === undefined ? peerPromClient : checkPromClient(o.promClient)
  const timeoutMs =
    o.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : milliseconds('timeoutMs', o.timeoutMs)
  let nextId = 0

  function collect(): Promise<RegistryLike> {
    const workers = Object.values(cluster.workers ?? {}).filter(
      (w): w is Worker => w !== undefined && w.isConnected(),
    )
    const id = nextId++
    const signal = AbortSignal.timeout(timeoutMs)
    const replies = workers.map(
      (worker) =>
        new Promise<unknown[]>((resolve, reject) => {
          const done = (): void => {
            worker.off('message', onMessage)
            worker.off('exit', onExit)
            signal.removeEventListener('abort', onAbort)
          }
          const onMessage = (message: unknown): void => {
            const reply = message as Partial<CollectReply> | null
            if (reply?.type !== REPLY || reply.id !== id) return
            done()
            if (reply.families !== undefined) resolve(reply.families)
            else reject(new Error(`worker ${worker.id} failed to collect: ${reply.error}`))
          }
          // A worker that exits mid-scrape simply contributes nothing.
          const onExit = (): void => {
            done()
            resolve([])
          }
          const onAbort = (): void => {
            done()
            reject(new ClusterTimeoutError(worker.id, timeoutMs))
          }
          worker.on('message', onMessage)
          worker.on('exit', onExit)
          signal.addEventListener('abort', onAbort)
          worker.send({ type: REQUEST, id } satisfies CollectRequest)
        }),
    )
    return Promise.all(replies).then((perWorker) => aggregateFamilies(client, perWorker))
  }

  const render = scrapeAnswerer(
    {
      client,
      authorized: optional(o.token, (token) => bearerMatcher('token', token)),
      openMetrics: o.openMetrics === undefined ? true : bool('openMetrics', o.openMetrics),
      logger: resolveLogger('logger', o.logger, PACKAGE_NAME),
    },
    collect,
  )
  return {
    render,
    handler(req, res) {
      void render({ accept: req.headers.accept, authorization: req.headers.authorization }).then(
        (answer) => writeAnswer(res, answer),
      )
    },
  }
}
