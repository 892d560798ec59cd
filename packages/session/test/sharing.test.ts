import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { needService } from '../../../test/support/services.js'
import type { RedisSessionOptions } from '../src/options.js'
import {
  FRAMEWORKS,
  OLD_SECRET,
  recordingLogger,
  SECRET,
  startExpress,
  startFastify,
  type StartApp,
} from './apps.js'
import { Browser } from './browser.js'
import { IOREDIS } from './clients.js'
import { closeSharedRedis, openSharedRedis } from './support/shared-redis.js'
import { DEFAULT_STORED_COOKIE, storedJson } from './support/stored-session.js'

const redisUp = await needService('redis')
const prefix = `uptimekit-test-sharing:${randomUUID()}:`
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe.runIf(redisUp)('sessions on a shared Redis', () => {
  describe.each(IOREDIS)('%s', (_client, clients) => {
    let redis: Redis
    let admin: Redis
    beforeAll(async () => ({ redis, admin } = await openSharedRedis(clients)))
    afterAll(() => closeSharedRedis({ redis, admin }, prefix))

    const options = (extra: Partial<RedisSessionOptions> = {}): RedisSessionOptions => ({
      redis,
      secret: SECRET,
      prefix,
      logger: recordingLogger(),
      ...extra,
    })
    const start = async (
      startApp: StartApp,
      extra?: Partial<RedisSessionOptions>,
    ): Promise<string> => {
      const app = await startApp(options(extra))
      onTestFinished(() => app.close())
      return app.url
    }

    it('shares one session between two Express instances and a Fastify instance, both ways', async () => {
      const [expressA, expressB, fastify] = await Promise.all([
        start(startExpress),
        start(startExpress),
        start(startFastify),
      ])
      const browser = new Browser()
      expect(await browser.json(`${expressA}/login?user=ada`, { post: true })).toEqual({
        userId: 'ada',
      })
      expect(await browser.json(`${expressB}/me`)).toEqual({ userId: 'ada', visits: 0 })
      expect(await browser.json(`${fastify}/me`)).toEqual({ userId: 'ada', visits: 0 })
      expect(await browser.json(`${fastify}/visit`, { post: true })).toEqual({ visits: 1 })
      expect(await browser.json(`${expressA}/me`)).toEqual({ userId: 'ada', visits: 1 })
      expect(await browser.json(`${expressB}/visit`, { post: true })).toEqual({ visits: 2 })
      expect(await browser.json(`${fastify}/me`)).toEqual({ userId: 'ada', visits: 2 })

      const other = new Browser()
      await other.fetch(`${fastify}/login?user=grace`, { method: 'POST' })
      expect(await other.json(`${expressA}/me`)).toEqual({ userId: 'grace', visits: 0 })
    })

    it('writes the same cookie attributes and the same stored JSON from both frameworks', async () => {
      const [express, fastify] = await Promise.all([start(startExpress), start(startFastify)])
      const viaExpress = new Browser()
      const viaFastify = new Browser()
      await viaExpress.fetch(`${express}/login?user=ada`, { method: 'POST' })
      await viaFastify.fetch(`${fastify}/login?user=ada`, { method: 'POST' })
      const attributes = (browser: Browser): string[] =>
        (browser.setCookies.flat().at(-1) as string)
          .split(';')
          .slice(1)
          .map((part) => part.trim().split('=')[0] as string)
          .map((part) => part.toLowerCase())
          .sort()
      expect(attributes(viaExpress)).toEqual(['expires', 'httponly', 'path', 'samesite'])
      expect(attributes(viaFastify)).toEqual(['expires', 'httponly', 'path', 'samesite'])
      expect(viaExpress.value).toMatch(/^s:[\w-]{32}\.[\w+/]{43}$/)
      expect(viaFastify.value).toMatch(/^s:[\w-]{32}\.[\w+/]{43}$/)

      const stored = async (sid: string | undefined): Promise<unknown> =>
        storedJson(await admin.get(`${prefix}${sid}`))
      const expected = { cookie: DEFAULT_STORED_COOKIE, userId: 'ada' }
      expect(await stored(viaExpress.sid)).toEqual(expected)
      expect(await stored(viaFastify.sid)).toEqual(expected)
      const keyOrder = async (sid: string | undefined): Promise<string[]> => {
        const parsed = JSON.parse((await admin.get(`${prefix}${sid}`)) as string) as {
          cookie: object
        }
        return [...Object.keys(parsed), ...Object.keys(parsed.cookie)]
      }
      expect(await keyOrder(viaFastify.sid)).toEqual(await keyOrder(viaExpress.sid))
    })

    describe.each(FRAMEWORKS)('%s', (_name, startApp) => {
      it('sets no cookie and stores nothing for a request that stores nothing', async () => {
        const url = await start(startApp)
        const before = (await admin.keys(`${prefix}*`)).sort()
        const browser = new Browser()
        const res = await browser.fetch(`${url}/me`)
        expect(await res.json()).toEqual({ userId: null, visits: 0 })
        expect(res.headers.getSetCookie()).toEqual([])
        expect((await admin.keys(`${prefix}*`)).sort()).toEqual(before)
      })

      it('rejects a tampered cookie as if there were none', async () => {
        const url = await start(startApp)
        const browser = new Browser()
        await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
        const sid = browser.sid as string
        const forged = new Browser()
        forged.cookie = `connect.sid=${encodeURIComponent(`s:${sid}.${'A'.repeat(43)}`)}`
        expect(await forged.json(`${url}/me`)).toEqual({ userId: null, visits: 0 })
        const unsigned = new Browser()
        unsigned.cookie = `connect.sid=${sid}`
        expect(await unsigned.json(`${url}/me`)).toEqual({ userId: null, visits: 0 })
        expect(await browser.json(`${url}/me`)).toEqual({ userId: 'ada', visits: 0 })
      })

      it('regenerates the id on login and deletes the old key', async () => {
        const url = await start(startApp)
        const browser = new Browser()
        await browser.fetch(`${url}/visit`, { method: 'POST' })
        const before = browser.sid as string
        expect(await admin.exists(`${prefix}${before}`)).toBe(1)
        await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
        expect(browser.sid).not.toBe(before)
        expect(await admin.exists(`${prefix}${before}`)).toBe(0)
        expect(await admin.exists(`${prefix}${browser.sid}`)).toBe(1)
      })

      it('destroys the key in Redis on logout, for every instance', async () => {
        const [url, otherUrl] = await Promise.all([start(startApp), start(startExpress)])
        const browser = new Browser()
        await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
        const sid = browser.sid as string
        expect(await browser.json(`${url}/logout`, { post: true })).toEqual({ loggedOut: true })
        expect(await admin.exists(`${prefix}${sid}`)).toBe(0)
        expect(await browser.json(`${otherUrl}/me`)).toEqual({ userId: null, visits: 0 })
      })

      it('expires a session after ttlSeconds', async () => {
        const url = await start(startApp, { ttlSeconds: 1 })
        const browser = new Browser()
        await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
        const pttl = await admin.pttl(`${prefix}${browser.sid}`)
        expect(pttl).toBeGreaterThan(0)
        expect(pttl).toBeLessThanOrEqual(1000)
        await sleep(1200)
        expect(await admin.exists(`${prefix}${browser.sid}`)).toBe(0)
        expect(await browser.json(`${url}/me`)).toEqual({ userId: null, visits: 0 })
      })

      it('reads cookies signed with a rotated-out secret and re-signs them with the new one', async () => {
        const oldUrl = await start(startApp, { secret: OLD_SECRET })
        const newUrl = await start(startApp, { secret: [SECRET, OLD_SECRET] })
        const strictUrl = await start(startApp, { secret: SECRET })
        const browser = new Browser()
        await browser.fetch(`${oldUrl}/login?user=ada`, { method: 'POST' })
        const oldValue = browser.value
        expect(await browser.json(`${strictUrl}/me`)).toEqual({ userId: null, visits: 0 })
        browser.cookie = `connect.sid=${encodeURIComponent(oldValue as string)}`
        const res = await browser.fetch(`${newUrl}/me`)
        expect(await res.json()).toEqual({ userId: 'ada', visits: 0 })
        expect(res.headers.getSetCookie()).toHaveLength(1)
        expect(browser.value).not.toBe(oldValue)
        expect(await browser.json(`${strictUrl}/me`)).toEqual({ userId: 'ada', visits: 0 })
      })

      it('refreshes an unmodified session with PEXPIRE once per touchIntervalSeconds, never a SET', async () => {
        const url = await start(startApp, { ttlSeconds: 10, touchIntervalSeconds: 1 })
        const browser = new Browser()
        await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
        const key = `${prefix}${browser.sid}`
        await admin.pexpire(key, 9500)
        const stored = await admin.get(key)
        await browser.fetch(`${url}/me`)
        expect(await admin.pttl(key)).toBeLessThanOrEqual(9500)
        await admin.pexpire(key, 8000)
        const res = await browser.fetch(`${url}/me`)
        expect(await res.json()).toEqual({ userId: 'ada', visits: 0 })
        expect(await admin.pttl(key)).toBeGreaterThan(9000)
        expect(await admin.get(key)).toBe(stored)
        expect(res.headers.getSetCookie()).toEqual([])
      })

      it('never lets a read-only request overwrite a concurrent write', async () => {
        const url = await start(startApp, { ttlSeconds: 10, touchIntervalSeconds: 0 })
        const browser = new Browser()
        await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
        const slow = browser.fetch(`${url}/slow-me?ms=300`)
        await sleep(100)
        expect(await browser.json(`${url}/visit`, { post: true })).toEqual({ visits: 1 })
        expect(await (await slow).json()).toEqual({ userId: 'ada' })
        expect(await browser.json(`${url}/me`)).toEqual({ userId: 'ada', visits: 1 })
      })

      it('ends a session at absoluteTtlSeconds however active it is', async () => {
        const url = await start(startApp, {
          ttlSeconds: 10,
          touchIntervalSeconds: 0,
          absoluteTtlSeconds: 1,
        })
        const browser = new Browser()
        await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
        expect(await admin.pttl(`${prefix}${browser.sid}`)).toBeLessThanOrEqual(1000)
        await sleep(500)
        expect(await browser.json(`${url}/visit`, { post: true })).toEqual({ visits: 1 })
        expect(await admin.pttl(`${prefix}${browser.sid}`)).toBeLessThanOrEqual(500)
        await sleep(700)
        expect(await browser.json(`${url}/me`)).toEqual({ userId: null, visits: 0 })
      })
    })
  })
})
