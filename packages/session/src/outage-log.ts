import { errorText, monotonicMs, type Logger } from '@uptimekit/internal'
import type { Cluster, Redis } from 'ioredis'

/** How often a cluster in an outage is checked for its recovery, in milliseconds. */
const CLUSTER_CHECK_MS = 500

const errorDetails = (err: unknown): { message: string; code?: string } => {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? { message: errorText(err), code } : { message: errorText(err) }
}

/**
 * One `error` line when a client loses Redis and one `info` line when it is ready again, however
 * many reconnect attempts and failed commands lie between. The listener also keeps an `error`
 * event from crashing the process.
 */
export function logOutages(redis: Redis, where: string, logger: Logger): void {
  let outageSince: number | undefined
  redis.on('error', (err: unknown) => {
    if (outageSince !== undefined) return
    outageSince = monotonicMs()
    logger.error(
      { redis: where, err: errorDetails(err) },
      'redis unavailable; reconnecting with backoff',
    )
  })
  redis.on('ready', () => {
    if (outageSince === undefined) return
    const downtimeMs = Math.round(monotonicMs() - outageSince)
    outageSince = undefined
    logger.info({ redis: where, downtimeMs }, 'redis available again')
  })
}

/** Whether every slot has a master that answers and the cluster says its state is ok. */
async function clusterHealthy(cluster: Cluster): Promise<boolean> {
  const masters = cluster.nodes('master')
  const first = masters[0]
  if (first === undefined) return false
  try {
    await Promise.all(masters.map((node) => node.ping()))
    const answering = new Set(masters.map(({ options }) => `${options.host}:${options.port}`))
    // Until the node timeout marks a dead master failed, the survivors still list it for its
    // slots and say "ok": the slots' owners must be the masters that answered.
    const ranges = (await first.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][]
    let covered = 0
    for (const [start, end, [host, port]] of ranges) {
      if (!answering.has(`${host}:${port}`)) return false
      covered += end - start + 1
    }
    const info = String(await first.call('CLUSTER', 'INFO'))
    return covered === 16_384 && info.includes('cluster_state:ok')
  } catch {
    return false
  }
}

/**
 * Whether the client's slot map routes any slot to `node` (`host:port`), as master or replica;
 * true before the map is known.
 */
function servesSlots(cluster: Cluster, node: string): boolean {
  const { slots } = cluster
  return slots.length === 0 || slots.some((owners) => owners?.includes(node))
}

/** ioredis' error for one node's CLUSTER SLOTS answer that did not come within `slotsRefreshTimeout`. */
const isSlotRefreshTimeout = (err: unknown): boolean =>
  err instanceof Error &&
  err.message === 'timeout' &&
  (err as { code?: unknown }).code === undefined

/**
 * The same two lines for a cluster: the outage starts at the first cluster error or error of a
 * node the client routes slots to (errors of a node it no longer uses, and a node's late answer to
 * a slot refresh, are not one); while
 * it lasts, an unref'd check every 500 ms asks every master, and the recovery is logged once they
 * all answer and the cluster state is ok again. A node's address is logged, never its password.
 */
export function logClusterOutages(cluster: Cluster, where: string, logger: Logger): void {
  let outageSince: number | undefined
  let timer: NodeJS.Timeout | undefined
  let checking = false
  const check = (): void => {
    if (checking || cluster.status !== 'ready') return
    checking = true
    void clusterHealthy(cluster).then((healthy) => {
      checking = false
      if (!healthy || outageSince === undefined) return
      const downtimeMs = Math.round(monotonicMs() - outageSince)
      outageSince = undefined
      clearInterval(timer)
      logger.info({ redis: where, downtimeMs }, 'redis cluster available again')
    })
  }
  const down = (err: unknown, node?: unknown): void => {
    if (outageSince !== undefined) return
    // A node the client no longer routes any slot to (a dead master after its replica took over,
    // kept in the pool until the next slot refresh) is no outage of the cluster.
    if (typeof node === 'string' && !servesSlots(cluster, node)) return
    // A slot refresh that a busy node did not answer within slotsRefreshTimeout: the refresh
    // asks the next node, and commands still reach this one.
    if (typeof node === 'string' && isSlotRefreshTimeout(err)) return
    outageSince = monotonicMs()
    const details = typeof node === 'string' ? { redis: where, node } : { redis: where }
    logger.error(
      { ...details, err: errorDetails(err) },
      'redis cluster unavailable; reconnecting with backoff',
    )
    timer = setInterval(check, CLUSTER_CHECK_MS)
    timer.unref()
  }
  cluster.on('error', (err: unknown) => down(err))
  cluster.on('node error', (err: unknown, node: unknown) => down(err, node))
  cluster.on('end', () => clearInterval(timer))
}
