import { randomUUID } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { needBinary } from '../../../test/support/binaries.js'
import { RedisSessionStore } from '../src/session-store.js'
import { recordingLogger, SECRET, startExpress, startFastify, type App } from './apps.js'
import { Browser } from './browser.js'
import { IOREDIS, type ClientKind } from './clients.js'
import { infoOf, startCluster, type RedisCluster } from './redis-cluster.js'
import { ready } from './redis-server.js'
import { DEFAULT_STORED_COOKIE, storedJson } from './support/stored-session.js'

const canRun = needBinary('redis-server') && needBinary('redis-cli')
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
// The test's own connections, the client's slot refreshes and replication, not the store's commands.
const HOUSEKEEPING =
  /^(info|config|cluster|command|ping|client|hello|readonly|replconf|psync|sync)(\||$)/

/** The port a cluster node's connection goes to. */
const portOf = (node: Redis): number => node.options.port as number

/** Sums INFO commandstats over the cluster's masters, leaving out housekeeping commands. */
async function commandCounts(cluster: Cluster): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const node of cluster.nodes('master')) {
    const info = await node.info('commandstats')
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const [, command, calls] = match as unknown as [string, string, string]
      if (!HOUSEKEEPING.test(command)) counts[command] = (counts[command] ?? 0) + Number(calls)
    }
  }
  return counts
}

/** How many keys under `prefix` each master holds, by port. */
async function keysPerMaster(cluster: Cluster, prefix: string): Promise<Map<number, number>> {
  const out = new Map<number, number>()
  for (const node of cluster.nodes('master')) {
    let cursor = '0'
    let count = 0
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      count += keys.length
    } while (cursor !== '0')
    out.set(portOf(node), count)
  }
  return out
}

describe.runIf(canRun)('Redis Cluster', () => {
  describe.each(IOREDIS)('%s', (_client, clients: ClientKind) => {
    const prefix = `uptimekit-test-cluster:${randomUUID()}:`
    let cluster: RedisCluster
    let redis: Cluster
    let apps: { express: App; fastify: App }
    const logger = recordingLogger()
    beforeAll(async () => {
      cluster = await startCluster()
      redis = clients.cluster({ cluster: cluster.seeds }, { logger })
      await ready(redis)
      const options = { redis, secret: SECRET, prefix, logger: false as const }
      apps = { express: await startExpress(options), fastify: await startFastify(options) }
    }, 60_000)
    afterAll(async () => {
      await Promise.all([apps.express.close(), apps.fastify.close()])
      await redis.quit()
      await cluster.stop()
    })

    it('shares one session and one cookie between Express and Fastify, with a TTL and the same JSON', async () => {
      const { express, fastify } = { express: apps.express.url, fastify: apps.fastify.url }
      const browser = new Browser()
      const login = await browser.fetch(`${express}/login?user=ada`, { method: 'POST' })
      expect(await login.json()).toEqual({ userId: 'ada' })
      expect(await browser.json(`${fastify}/me`)).toEqual({ userId: 'ada', visits: 0 })
      expect(await browser.json(`${fastify}/visit`, { post: true })).toEqual({ visits: 1 })
      expect(await browser.json(`${express}/me`)).toEqual({ userId: 'ada', visits: 1 })
      const key = `${prefix}${browser.sid}`
      const pttl = await redis.pttl(key)
      expect(pttl).toBeGreaterThan(86_000_000)
      expect(pttl).toBeLessThanOrEqual(86_400_000)
      expect(storedJson(await redis.get(key))).toEqual({
        cookie: DEFAULT_STORED_COOKIE,
        userId: 'ada',
        visits: 1,
      })
      expect(await browser.json(`${fastify}/logout`, { post: true })).toEqual({ loggedOut: true })
      expect(await redis.exists(key)).toBe(0)
      expect(await browser.json(`${express}/me`)).toEqual({ userId: null, visits: 0 })
    })

    it('lists, counts and clears sessions held by every master', async () => {
      const own = `${prefix}list:`
      const store = new RedisSessionStore({ redis, prefix: own, logger: false })
      const sids = Array.from({ length: 30 }, () => randomUUID())
      for (const sid of sids)
        await store.save(sid, { cookie: { originalMaxAge: 60_000 }, userId: sid })
      const spread = await keysPerMaster(redis, own)
      expect([...spread.values()].filter((count) => count > 0).length).toBe(3)
      expect((await store.ids()).sort()).toEqual([...sids].sort())
      const all = await store.all()
      expect(all.map(({ id, userId }) => [id, userId]).sort()).toEqual(
        sids.map((sid) => [sid, sid]).sort(),
      )
      expect(await store.length()).toBe(30)
      for (const sid of sids.slice(0, 3))
        expect(await redis.pttl(`${own}${sid}`)).toBeGreaterThan(0)
      await store.clear()
      expect(await store.length()).toBe(0)
      expect([...(await keysPerMaster(redis, own)).values()]).toEqual([0, 0, 0])
    })

    it('sends 0 commands for 400 anonymous requests, summed over the masters', async () => {
      await Promise.all(redis.nodes('master').map((node) => node.config('RESETSTAT')))
      for (const url of [apps.express.url, apps.fastify.url]) {
        for (let i = 0; i < 200; i += 50) {
          const batch = await Promise.all(
            Array.from({ length: 50 }, (_, j) => fetch(`${url}/${j % 2 === 0 ? 'me' : 'public'}`)),
          )
          for (const res of batch) {
            expect(res.status).toBe(200)
            await res.arrayBuffer()
          }
        }
      }
      expect(await commandCounts(redis)).toEqual({})
    })

    it('logs nothing while the cluster is healthy', () => {
      expect(logger.lines).toEqual([])
    })

    it('while one master hangs, fails its sessions at once and keeps serving the others', async () => {
      // Two logged-in users whose sessions live on different masters.
      const byMaster = new Map<string, Browser>()
      while (byMaster.size < 2) {
        const browser = new Browser()
        await browser.fetch(`${apps.express.url}/login?user=u${byMaster.size}`, { method: 'POST' })
        const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', `${prefix}${browser.sid}`))
        const master = redis.slots[slot]?.[0] as string
        if (!byMaster.has(master)) byMaster.set(master, browser)
      }
      const [[hungMaster, onHung], [, onOther]] = [...byMaster] as [
        [string, Browser],
        [string, Browser],
      ]
      const me = async (browser: Browser): Promise<{ status: number; ms: number }> => {
        const start = performance.now()
        const res = await browser.fetch(`${apps.fastify.url}/me`)
        await res.arrayBuffer()
        return { status: res.status, ms: performance.now() - start }
      }
      const DEADLINE = 1000
      await infoOf(Number(hungMaster.split(':')[1]), 'CLIENT PAUSE 4000 ALL')
      const first = await me(onHung)
      expect(first.status).toBe(503)
      // The other master's session is served while the hung one is known to be down …
      expect((await me(onOther)).status).toBe(200)
      // … and that success does not make the next request on the hung master wait its deadline.
      const second = await me(onHung)
      expect(second.status).toBe(503)
      expect(second.ms).toBeLessThan(first.ms / 2)
      expect(first.ms).toBeGreaterThanOrEqual(DEADLINE)
      // Once the pause ends, the probe sees the master again.
      let status = 503
      while (status !== 200) {
        await sleep(100)
        status = (await me(onHung)).status
      }
    }, 20_000)
  })

  describe.each([
    ['a deadline that covers the failover (unavailableTimeoutMs 10000)', 10_000],
    ['the default deadline', undefined],
  ] as const)('master failover under load with %s', (_what, unavailableTimeoutMs) => {
    it('loses no session; failures stay within bounds and are fast 503s with Retry-After', async () => {
      const [, clients] = IOREDIS[0]
      const cluster = await startCluster()
      onTestFinished(() => cluster.stop())
      const logger = recordingLogger()
      const redis = clients.cluster({ cluster: cluster.seeds }, { logger })
      onTestFinished(() => void redis.disconnect())
      await ready(redis)
      const prefix = `uptimekit-test-failover:${randomUUID()}:`
      const app = await startExpress({
        redis,
        secret: SECRET,
        prefix,
        logger: false,
        ...(unavailableTimeoutMs === undefined ? {} : { unavailableTimeoutMs }),
      })
      onTestFinished(() => app.close())

      const browsers = Array.from({ length: 20 }, () => new Browser())
      for (const [index, browser] of browsers.entries()) {
        await browser.fetch(`${app.url}/login?user=user-${index}`, { method: 'POST' })
      }
      // Acknowledged means replicated here: WAIT for the replica on every master before the kill.
      for (const node of redis.nodes('master')) await node.call('WAIT', '1', '2000')
      const spread = await keysPerMaster(redis, prefix)
      const [victimPort] = [...spread.entries()].sort((a, b) => b[1] - a[1])[0] as [number, number]
      const victim = cluster.nodes.find(
        ({ port }) => port === victimPort,
      ) as (typeof cluster.nodes)[number]
      const onVictim = new Set<number>()
      for (const [index, browser] of browsers.entries()) {
        const slotOwner = await redis
          .call('CLUSTER', 'KEYSLOT', `${prefix}${browser.sid}`)
          .then((slot) => redis.slots[Number(slot)]?.[0])
        if (slotOwner === `127.0.0.1:${victimPort}`) onVictim.add(index)
      }

      type Outcome = {
        index: number
        start: number
        end: number
        status: number
        retryAfter: string | null
        ok: boolean
      }
      const outcomes: Outcome[] = []
      // When each request that got no answer at all was sent, in ms into the load.
      const hangs: number[] = []
      const reasons = new Set<string>()
      const sessionDeadline = unavailableTimeoutMs ?? 1000
      // Far above any answer: whether an answer was fast enough is judged below, against the
      // session deadline and the stalls this process had, not by a fixed abort.
      const deadline = sessionDeadline + 30_000
      // The longest the event loop stood still (a loaded machine not running this process):
      // answers it delayed are no slower store operations.
      const stalls = monitorEventLoopDelay({ resolution: 10 })
      stalls.enable()
      const pending: Promise<void>[] = []
      let killAt = Number.POSITIVE_INFINITY
      const started = performance.now()
      // 1,000 requests at about 100/s, on a schedule: a slow tick sends what it fell behind, so a
      // loaded machine sends them all too, only in bigger bursts.
      const REQUESTS = 1000
      let sent = 0
      while (sent < REQUESTS) {
        const due = Math.min(REQUESTS, Math.floor((performance.now() - started) / 10))
        for (; sent < due; sent++) {
          const index = sent % browsers.length
          const browser = browsers[index] as Browser
          const start = performance.now()
          pending.push(
            fetch(`${app.url}/me`, {
              headers: { cookie: browser.cookie as string },
              signal: AbortSignal.timeout(deadline),
            }).then(
              async (res) => {
                const body = (await res.json()) as { userId?: string }
                outcomes.push({
                  index,
                  start,
                  end: performance.now(),
                  status: res.status,
                  retryAfter: res.headers.get('retry-after'),
                  ok: res.status === 200 && body.userId === `user-${index}`,
                })
              },
              (err: unknown) => {
                hangs.push(Math.round(start - started))
                const cause = (err as { cause?: { code?: string; message?: string } }).cause
                reasons.add(
                  `${(err as Error).name}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
                )
              },
            ),
          )
        }
        if (killAt === Number.POSITIVE_INFINITY && performance.now() - started >= 2000) {
          killAt = performance.now()
          await victim.stop()
        }
        await sleep(5)
      }
      await Promise.all(pending)
      stalls.disable()
      const stallMs = Math.round(stalls.max / 1e6)

      // After the failover every session is still there.
      let lost = browsers.length
      const settle = performance.now()
      while (performance.now() - settle < 30_000) {
        const reads = await Promise.all(
          browsers.map(async (browser, index) => {
            const res = await fetch(`${app.url}/me`, {
              headers: { cookie: browser.cookie as string },
            })
            return ((await res.json()) as { userId?: string }).userId === `user-${index}`
          }),
        )
        lost = reads.filter((ok) => !ok).length
        if (lost === 0) break
        await sleep(200)
      }

      const failures = outcomes.filter((outcome) => !outcome.ok)
      const share = failures.length / (outcomes.length + hangs.length)
      const moved = outcomes.filter(
        (outcome) => onVictim.has(outcome.index) && outcome.start >= killAt && outcome.ok,
      )
      const windowEnd = Math.min(...moved.map(({ end }) => end))
      const windowMs = Math.round(windowEnd - killAt)
      // A failed request runs one store operation, answered within the deadline: twice the
      // deadline leaves room for scheduling, never for a second deadline; a stall of the event
      // loop delays every answer by its length.
      const failureBoundMs = 2 * sessionDeadline + stallMs
      const tooSlow = failures.filter(({ start, end }) => end - start >= failureBoundMs)
      const slowestFailureMs = Math.round(
        Math.max(0, ...failures.map(({ start, end }) => end - start)),
      )
      console.info(
        `cluster failover (${unavailableTimeoutMs ?? 'default'} deadline): ${outcomes.length + hangs.length} requests, ` +
          `${failures.length} failed (${(share * 100).toFixed(1)} %), ${hangs.length} hung, ${lost} sessions lost, ` +
          `${onVictim.size} of 20 sessions on the killed master, window ${windowMs} ms from SIGKILL to the first success on its slots, ` +
          `slowest failure answered in ${slowestFailureMs} ms (${tooSlow.length} at or above ${failureBoundMs} ms), longest event-loop stall ${stallMs} ms` +
          (hangs.length > 0
            ? `; hung requests sent ${Math.min(...hangs)} to ${Math.max(...hangs)} ms into the load, the kill at ${Math.round(killAt - started)} ms (${[...reasons].join(', ')})`
            : ''),
      )
      expect(outcomes.length + hangs.length).toBe(REQUESTS)
      expect(onVictim.size).toBeGreaterThan(0)
      expect(hangs).toEqual([])
      expect(lost).toBe(0)
      expect(failures.every(({ status, retryAfter }) => status === 503 && retryAfter === '1')).toBe(
        true,
      )
      if (unavailableTimeoutMs !== undefined) expect(share).toBeLessThanOrEqual(0.02)
      expect(tooSlow.length).toBe(0)
      await logger.logged('redis cluster available again')
      console.info(`cluster failover log: ${JSON.stringify(logger.lines)}`)
      expect(logger.lines.filter(({ level }) => level === 'error').length).toBe(1)
      expect(logger.lines.map(({ msg }) => msg)).toEqual([
        'redis cluster unavailable; reconnecting with backoff',
        'redis cluster available again',
      ])
    }, 120_000)
  })
})
