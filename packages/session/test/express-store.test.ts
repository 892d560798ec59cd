import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import express from 'express'
import session from 'express-session'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { needService } from '../../../test/support/services.js'
import { RedisSessionStore } from '../src/express.js'
import { SECRET } from './apps.js'
import { Browser } from './browser.js'
import { IOREDIS } from './clients.js'
import { closeSharedRedis, openSharedRedis } from './support/shared-redis.js'

const redisUp = await needService('redis')
const promised = <T>(
  run: (callback: (err: unknown, value?: T) => void) => void,
): Promise<T | undefined> =>
  new Promise((resolve, reject) =>
    run((err, value) =>
      err ? reject(err instanceof Error ? err : new Error('store error')) : resolve(value),
    ),
  )

describe.runIf(redisUp)('RedisSessionStore with plain express-session', () => {
  describe.each(IOREDIS)('%s', (_client, clients) => {
    const prefix = `uptimekit-test-store:${randomUUID()}:`
    let redis: Redis
    let admin: Redis
    beforeAll(async () => ({ redis, admin } = await openSharedRedis(clients)))
    afterAll(() => closeSharedRedis({ redis, admin }, prefix))

    async function serve(store: RedisSessionStore): Promise<string> {
      const app = express()
      app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false }))
      app.post('/login', (req, res) => {
        req.session.userId = 'ada'
        res.json({ ok: true })
      })
      app.get('/me', (req, res) => void res.json({ userId: req.session.userId ?? null }))
      const server = await new Promise<Server>((resolve) => {
        const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening))
      })
      onTestFinished(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          }),
      )
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    }

    it('is a Store plain express-session accepts, and keeps null cookie fields as null', async () => {
      const store = new RedisSessionStore({ redis, prefix, logger: false })
      expect(store).toBeInstanceOf(session.Store)
      const url = await serve(store)
      const browser = new Browser()
      expect(await (await browser.fetch(`${url}/login`, { method: 'POST' })).json()).toEqual({
        ok: true,
      })
      const stored = JSON.parse((await admin.get(`${prefix}${browser.sid}`)) as string) as unknown
      expect(stored).toEqual({
        cookie: { originalMaxAge: null, expires: null, httpOnly: true, path: '/' },
        userId: 'ada',
      })
      expect(await (await browser.fetch(`${url}/me`)).json()).toEqual({ userId: 'ada' })
      const reloaded = await promised<session.SessionData | null>((done) =>
        store.get(browser.sid as string, done),
      )
      expect(reloaded?.cookie.originalMaxAge).toBeNull()
    })

    it('lists, counts and clears the sessions under its prefix', async () => {
      const own = `${prefix}list:${randomUUID()}:`
      const store = new RedisSessionStore({ redis, prefix: own, logger: false })
      const url = await serve(store)
      const sids: string[] = []
      for (let i = 0; i < 5; i++) {
        const browser = new Browser()
        await browser.fetch(`${url}/login`, { method: 'POST' })
        sids.push(browser.sid as string)
      }
      expect(await promised<number>((done) => store.length(done))).toBe(5)
      const all = (await promised<session.SessionData[] | null>((done) => store.all(done))) ?? []
      expect(all.map((one) => (one as unknown as { id: string }).id).sort()).toEqual(
        [...sids].sort(),
      )
      expect(all.map((one) => one.userId)).toEqual(Array(5).fill('ada'))
      await promised((done) => store.clear(done))
      expect(await promised<number>((done) => store.length(done))).toBe(0)
      expect(await admin.keys(`${own}*`)).toEqual([])
    })
  })
})
