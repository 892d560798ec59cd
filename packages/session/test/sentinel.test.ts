import { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createRedisClient } from '../src/redis-client.js'
import { recordingLogger, SECRET, startExpress } from './apps.js'
import { Browser } from './browser.js'
import { startRedis, type RedisProcess } from './redis-server.js'

const prefix = `uptimekit-test-sentinel:${randomUUID()}:`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` every 50 ms until it resolves truthy or `timeoutMs` passes; returns the elapsed ms. */
async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<number> {
  const started = Date.now()
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started
    await sleep(50)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

describe('Sentinel failover', () => {
  it('keeps a replicated session through a master kill, and new logins work again after promotion', async () => {
    // Each process is recorded as soon as it runs, so a failure anywhere below still kills it.
    const processes: RedisProcess[] = []
    onTestFinished(() => Promise.all(processes.map((p) => p.stop())).then(() => undefined))
    const start = async (options: Parameters<typeof startRedis>[0]): Promise<RedisProcess> => {
      const started = await startRedis(options)
      processes.push(started)
      return started
    }
    const master = await start({})
    const replicas = await Promise.all(
      [0, 1].map(() => start({ args: ['--replicaof', '127.0.0.1', String(master.port)] })),
    )
    const sentinelConfig = [
      `sentinel monitor uptimekit 127.0.0.1 ${master.port} 2`,
      'sentinel down-after-milliseconds uptimekit 1000',
      'sentinel failover-timeout uptimekit 3000',
      'sentinel parallel-syncs uptimekit 2',
    ].join('\n')
    const sentinels = await Promise.all([0, 1, 2].map(() => start({ sentinelConfig })))

    const admins = new Map<number, Redis>()
    onTestFinished(() => admins.forEach((client) => client.disconnect()))
    const admin = (port: number): Redis => {
      let client = admins.get(port)
      if (client === undefined) {
        client = new Redis(port, '127.0.0.1', {
          commandTimeout: 2000,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        })
        client.on('error', () => undefined)
        admins.set(port, client)
      }
      return client
    }
    // Every sentinel must know both replicas and the two other sentinels before a failover is possible.
    await waitFor('sentinels to discover the topology', 20_000, async () => {
      const views = await Promise.all(
        sentinels.map(async ({ port }) => {
          const [replicaList, sentinelList] = await Promise.all([
            admin(port).call('SENTINEL', 'REPLICAS', 'uptimekit') as Promise<unknown[]>,
            admin(port).call('SENTINEL', 'SENTINELS', 'uptimekit') as Promise<unknown[]>,
          ])
          return replicaList.length === 2 && sentinelList.length === 2
        }),
      )
      return views.every(Boolean)
    })

    const redis = createRedisClient(
      { sentinels: sentinels.map(({ port }) => ({ host: '127.0.0.1', port })), name: 'uptimekit' },
      { logger: recordingLogger() },
    )
    onTestFinished(() => redis.disconnect())
    await waitFor('the client to reach the master through Sentinel', 10_000, () =>
      Promise.resolve(redis.status === 'ready'),
    )
    const app = await startExpress({ redis, secret: SECRET, prefix, logger: recordingLogger() })
    onTestFinished(() => app.close())

    const browser = new Browser()
    const login = await browser.fetch(`${app.url}/login?user=ada`, { method: 'POST' })
    expect(await login.json()).toEqual({ userId: 'ada' })
    const key = `${prefix}${browser.sid}`
    // Deterministic: the session is on both replicas before the master dies.
    await waitFor('the session to reach both replicas', 5000, async () =>
      (await Promise.all(replicas.map(({ port }) => admin(port).exists(key)))).every(
        (n) => n === 1,
      ),
    )

    await master.stop()
    const windowMs = await waitFor('a new login after failover', 20_000, async () => {
      const res = await new Browser().fetch(`${app.url}/login?user=grace`, {
        method: 'POST',
        signal: AbortSignal.timeout(5000),
      })
      await res.arrayBuffer()
      return res.status === 200
    })
    const promoted = await admin(sentinels[0]!.port).call(
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      'uptimekit',
    )
    expect(replicas.map(({ port }) => String(port))).toContain((promoted as string[])[1])
    expect(await (await browser.fetch(`${app.url}/me`)).json()).toEqual({
      userId: 'ada',
      visits: 0,
    })
    console.info(
      `sentinel failover window: ${windowMs} ms from SIGKILL to the first successful login`,
    )
  }, 60_000)
})
