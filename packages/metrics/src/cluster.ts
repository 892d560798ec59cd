import cluster, { type Worker } from 'node:cluster'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ClusterTimeoutError } from './errors.js'
import type { Metrics } from './metrics.js'
import {
  checkPositiveInteger,
  checkPromClient,
  checkRegistry,
  SILENT_LOGGER,
  type LoggerLike,
} from './options.js'
import {
  aggregateFamilies,
  peerPromClient,
  type PromClientLike,
  type RegistryLike,
} from './prom-client.js'
import { scrapeAnswerer, type MetricsAnswer, type MetricsRequest } from './scrape-answer.js'

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
      (err: unknown) => send({ type: REPLY, id, error: String(err) } satisfies CollectReply),
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
   * Longest the primary waits for every worker, in milliseconds; past it the scrape answers 504.
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
   * Where render errors go.
   * @default a silent logger
   */
  logger?: LoggerLike
}

/** The primary's side of cluster aggregation. */
export interface ClusterMetrics {
  /** Collects every worker's metrics, sums them and answers like `metrics.render()`. */
  render(request: MetricsRequest): Promise<MetricsAnswer>
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
export function createClusterMetrics(options: ClusterMetricsOptions = {}): ClusterMetrics {
  const client =
    options.promClient === undefined ? peerPromClient : checkPromClient(options.promClient)
  const timeoutMs = checkPositiveInteger(options.timeoutMs, 2000, 'timeoutMs', ' (milliseconds)')
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
      token: options.token,
      openMetrics: options.openMetrics ?? true,
      logger: options.logger ?? SILENT_LOGGER,
    },
    collect,
  )
  return {
    render,
    handler(req, res) {
      void render({ accept: req.headers.accept, authorization: req.headers.authorization }).then(
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers).end(answer.body)
        },
      )
    },
  }
}
