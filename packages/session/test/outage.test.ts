import { randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { Redis } from 'ioredis'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { closedPort } from '../../../test/support/ports.js'
import { sign } from '../src/cookie-signature.js'
import { FRAMEWORKS, recordingLogger, SECRET } from './apps.js'
import { Browser } from './browser.js'
import { IOREDIS } from './clients.js'
import { ready, startRedis, type RedisProcess } from './redis-server.js'

const prefix = `uptimekit-test-outage:${randomUUID()}:`
const UNAVAILABLE_BODY = {
  statusCode: 503,
  code: 'UPTIMEKIT_SESSION_UNAVAILABLE',
  error: 'Service Unavailable',
  message: 'The session store is unavailable; retry in 1 s',
}

function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

/** Command counts from INFO commandstats, without the admin connection's own INFO/CONFIG. */
export async function commandCounts(admin: Redis): Promise<Record<string, number>> {
  const info = await admin.info('commandstats')
  const counts: Record<string, number> = {}
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, command, calls] = match as unknown as [string, string, string]
    if (command !== 'info' && !command.startsWith('config')) counts[command] = Number(calls)
  }
  return counts
}

async function expectUnavailable(res: Response): Promise<void> {
  expect(res.status).toBe(503)
  expect(res.headers.get('retry-after')).toBe('1')
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
  expect(await res.json()).toEqual(UNAVAILABLE_BODY)
}

describe.each(IOREDIS)('%s', (_client, clients) => {
  describe.each(FRAMEWORKS)('%s with Redis down or frozen', (name, startApp) => {
    let server: RedisProcess
    let redis: Redis
    let admin: Redis
    let url: string
    const logger = recordingLogger()
    beforeAll(async () => {
      server = await startRedis()
      redis = clients.create(server.url, { logger: false })
      admin = clients.plain(server.url)
      await ready(redis)
      const app = await startApp({ redis, secret: SECRET, prefix, logger })
      url = app.url
      return async () => {
        await app.close()
        redis.disconnect()
        admin.disconnect()
        await server.stop()
      }
    })

    it('sends 0 Redis commands and sets no cookie for 1,000 anonymous requests', async () => {
      await admin.config('RESETSTAT')
      for (let i = 0; i < 1000; i += 50) {
        const batch = Array.from({ length: 50 }, (_, j) =>
          fetch(`${url}/${j % 2 === 0 ? 'me' : 'public'}`),
        )
        for (const res of await Promise.all(batch)) {
          expect(res.status).toBe(200)
          expect(res.headers.getSetCookie()).toEqual([])
          await res.arrayBuffer()
        }
      }
      expect(await commandCounts(admin)).toEqual({})
    })

    it('writes a login with one read, one DEL of the old key and the SETs its framework makes', async () => {
      const browser = new Browser()
      await browser.fetch(`${url}/visit`, { method: 'POST' })
      await admin.config('RESETSTAT')
      const res = await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
      expect(await res.json()).toEqual({ userId: 'ada' })
      // @fastify/session stores the new, empty session inside regenerate(), then again with its data.
      const sets = name === 'fastify' ? 2 : 1
      expect(await commandCounts(admin)).toEqual({ get: 1, pttl: 1, del: 1, set: sets })
    })

    // 5,000 real requests: on a loaded 2-core machine they can take longer than the 30 s default.
    it('answers 503 with Retry-After on session routes and 200 elsewhere while Redis is frozen, then recovers', async () => {
      const browser = new Browser()
      await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
      server.freeze()
      onTestFinished(() => server.thaw())

      await expectUnavailable(
        await browser.fetch(`${url}/me`, { signal: AbortSignal.timeout(3000) }),
      )
      const publicRes = await browser.fetch(`${url}/public`, { signal: AbortSignal.timeout(1000) })
      expect(publicRes.status).toBe(200)
      expect(await publicRes.json()).toEqual({ ok: true })

      const queued = (): number =>
        redis.commandQueue.length +
        (redis as unknown as { offlineQueue: { length: number } }).offlineQueue.length
      const queuedBefore = queued()
      collectGarbage()
      const heapBefore = process.memoryUsage().heapUsed
      let maxQueued = 0
      const statuses = new Map<number, number>()
      for (let i = 0; i < 5000; i += 100) {
        const batch = Array.from({ length: 100 }, () =>
          fetch(`${url}/me`, { headers: { cookie: browser.cookie as string } }),
        )
        for (const res of await Promise.all(batch)) {
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
          await res.arrayBuffer()
        }
        maxQueued = Math.max(maxQueued, queued())
      }
      collectGarbage()
      const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20
      expect(Object.fromEntries(statuses)).toEqual({ 503: 5000 })
      expect(maxQueued - queuedBefore).toBeLessThanOrEqual(20)
      expect(heapGrowthMb).toBeLessThan(32)

      server.thaw()
      // The recovery is found by the background probe, not by a request: once it is logged, the
      // very first request succeeds.
      await logger.logged('session store available again')
      const first = await browser.fetch(`${url}/me`)
      expect(first.status).toBe(200)
      expect(await first.json()).toEqual({ userId: 'ada', visits: 0 })
      expect(logger.lines.map(({ level, msg }) => [level, msg])).toEqual([
        ['warn', 'session store unavailable: session requests get 503 until Redis answers again'],
        ['info', 'session store available again'],
      ])
    }, 120_000)

    it('answers the first request after a killed Redis restarts, without a request finding out first', async () => {
      const browser = new Browser()
      await onceBack(() => browser.fetch(`${url}/login?user=ada`, { method: 'POST' }))
      const before = logger.lines.length
      const { port } = server
      await server.stop()
      await expectUnavailable(
        await browser.fetch(`${url}/me`, { signal: AbortSignal.timeout(3000) }),
      )
      server = await startRedis({ port })
      // The restarted Redis is empty: put the session back, as a persistent Redis would have it.
      const value = JSON.stringify({ cookie: { originalMaxAge: 86_400_000 }, userId: 'ada' })
      await admin.set(`${prefix}${browser.sid}`, value, 'PX', 60_000)
      await logger.logged('session store available again', before)
      const first = await browser.fetch(`${url}/me`)
      expect(first.status).toBe(200)
      expect(await first.json()).toEqual({ userId: 'ada', visits: 0 })
    }, 60_000)

    it('answers 503 instead of a success when the changed session cannot be saved after the handler', async () => {
      const browser = new Browser()
      const login = await onceBack(() => browser.fetch(`${url}/login?user=ada`, { method: 'POST' }))
      expect(await login.json()).toEqual({ userId: 'ada' })
      // Reads go on, writes wait: the session loads and the handler runs, then its save times out.
      await admin.call('CLIENT', 'PAUSE', '20000', 'WRITE')
      onTestFinished(() => admin.call('CLIENT', 'UNPAUSE').then(() => undefined))
      const res = await browser.fetch(`${url}/visit`, {
        method: 'POST',
        signal: AbortSignal.timeout(5000),
      })
      expect(res.headers.getSetCookie()).toEqual([])
      await expectUnavailable(res)

      await admin.call('CLIENT', 'UNPAUSE')
      // The SET had been sent before its deadline, so Redis applies it once unpaused: a 503 after a
      // timeout means "unknown", as with any store.
      expect(await meOnceBack(browser)).toEqual({ userId: 'ada', visits: 1 })
    })

    /** The first 200 from `send` once the session store answers again, polling for at most 2 s. */
    async function onceBack(send: () => Promise<Response>): Promise<Response> {
      const deadline = Date.now() + 2000
      let res = await send()
      while (res.status !== 200 && Date.now() < deadline) {
        await res.arrayBuffer()
        await new Promise((resolve) => setTimeout(resolve, 50))
        res = await send()
      }
      return res
    }
    const meOnceBack = async (browser: Browser): Promise<unknown> =>
      (await onceBack(() => browser.fetch(`${url}/me`))).json()
  })
})

describe.each(FRAMEWORKS)('%s with nothing listening on the Redis port', (_name, startApp) => {
  const [, v5] = IOREDIS[0]
  const cookie = (): string =>
    `connect.sid=${encodeURIComponent(`s:${sign(randomUUID(), SECRET)}`)}`

  it.each([
    [
      'createRedisClient',
      (port: number) => v5.create(`redis://127.0.0.1:${port}`, { logger: false }),
    ],
    ['a default ioredis client', (port: number) => v5.plain(`redis://127.0.0.1:${port}`)],
  ] as const)(
    'answers 503 on session routes and 200 elsewhere with %s',
    async (_client, makeClient) => {
      const redis = makeClient(await closedPort())
      redis.on('error', () => undefined)
      onTestFinished(() => redis.disconnect())
      const logger = recordingLogger()
      const app = await startApp({ redis, secret: SECRET, prefix, logger })
      onTestFinished(() => app.close())
      const headers = { cookie: cookie() }
      for (let i = 0; i < 3; i++) {
        await expectUnavailable(
          await fetch(`${app.url}/me`, { headers, signal: AbortSignal.timeout(3000) }),
        )
        const res = await fetch(`${app.url}/public`, { headers, signal: AbortSignal.timeout(1000) })
        expect(await res.json()).toEqual({ ok: true })
      }
      expect(logger.lines.map(({ level, msg }) => [level, msg])).toEqual([
        ['warn', 'session store unavailable: session requests get 503 until Redis answers again'],
      ])
    },
  )
})
