import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { needService } from '../../../test/support/services.js'
import { FRAMEWORKS, gates, SECRET, startExpress, startFastify, type StartApp } from './apps.js'
import { Browser } from './browser.js'
import { IOREDIS } from './clients.js'
import { closeSharedRedis, openSharedRedis } from './support/shared-redis.js'

const redisUp = await needService('redis')

describe.runIf(redisUp)('concurrent requests on one session', () => {
  describe.each(IOREDIS)('%s', (_client, clients) => {
    const prefix = `uptimekit-test-concurrency:${randomUUID()}:`
    let redis: Redis
    let admin: Redis
    beforeAll(async () => ({ redis, admin } = await openSharedRedis(clients)))
    afterAll(() => closeSharedRedis({ redis, admin }, prefix))
    const start = async (startApp: StartApp): Promise<string> => {
      const app = await startApp({ redis, secret: SECRET, prefix, logger: false })
      onTestFinished(() => app.close())
      return app.url
    }
    const stored = async (sid: string | undefined): Promise<unknown> => {
      const raw = await admin.get(`${prefix}${sid}`)
      if (raw === null) return null
      const data = JSON.parse(raw) as Record<string, unknown>
      delete data.cookie
      return data
    }

    /** Sets one session key through `/put`, held at `gate` until the test releases it. */
    const put = (
      url: string,
      browser: Browser,
      { key, value, gate }: { key: string; value: string; gate: string },
    ): Promise<Response> =>
      fetch(`${url}/put?key=${key}&value=${value}&gate=${gate}`, {
        method: 'POST',
        headers: { cookie: browser.cookie as string },
      })

    describe.each(FRAMEWORKS)('%s', (_name, startApp) => {
      it('keeps a logout when a slower request on the same session writes after it', async () => {
        const url = await start(startApp)
        const browser = new Browser()
        await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
        const sid = browser.sid
        const gate = randomUUID()
        const slow = fetch(`${url}/put?key=cart&value=full&gate=${gate}`, {
          method: 'POST',
          headers: { cookie: browser.cookie as string },
        })
        await gates.arrived(gate)
        expect(await (await browser.fetch(`${url}/logout`, { method: 'POST' })).json()).toEqual({
          loggedOut: true,
        })
        gates.release(gate)
        expect((await slow).status).toBe(200)
        expect(await stored(sid)).toBeNull()
        const again = await fetch(`${url}/me`, {
          headers: { cookie: `connect.sid=${encodeURIComponent(`s:${sid}`)}` },
        })
        expect(await again.json()).toEqual({ userId: null, visits: 0 })
      })

      it('keeps both updates when two concurrent requests set different keys', async () => {
        const url = await start(startApp)
        const browser = new Browser()
        await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
        const [first, second] = [randomUUID(), randomUUID()]
        const a = put(url, browser, { key: 'a', value: 'a-value', gate: first })
        const b = put(url, browser, { key: 'b', value: 'b-value', gate: second })
        await Promise.all([gates.arrived(first), gates.arrived(second)])
        gates.release(first)
        expect((await a).status).toBe(200)
        gates.release(second)
        expect((await b).status).toBe(200)
        expect(await stored(browser.sid)).toEqual({ userId: 'ada', a: 'a-value', b: 'b-value' })
        expect(await (await browser.fetch(`${url}/data`)).json()).toEqual({
          userId: 'ada',
          a: 'a-value',
          b: 'b-value',
        })
      })

      it('lets the later write win when two concurrent requests set the same key', async () => {
        const url = await start(startApp)
        const browser = new Browser()
        await browser.fetch(`${url}/login?user=ada`, { method: 'POST' })
        const [first, second] = [randomUUID(), randomUUID()]
        const a = put(url, browser, { key: 'theme', value: 'dark', gate: first })
        const b = put(url, browser, { key: 'theme', value: 'light', gate: second })
        await Promise.all([gates.arrived(first), gates.arrived(second)])
        gates.release(first)
        await a
        gates.release(second)
        await b
        expect(await stored(browser.sid)).toEqual({ userId: 'ada', theme: 'light' })
      })
    })

    it('merges concurrent writes from Express and Fastify on one session', async () => {
      const [express, fastify] = await Promise.all([start(startExpress), start(startFastify)])
      const browser = new Browser()
      await browser.fetch(`${express}/login?user=ada`, { method: 'POST' })
      const [first, second] = [randomUUID(), randomUUID()]
      const headers = { cookie: browser.cookie as string }
      const a = fetch(`${express}/put?key=a&value=1&gate=${first}`, { method: 'POST', headers })
      const b = fetch(`${fastify}/put?key=b&value=2&gate=${second}`, { method: 'POST', headers })
      await Promise.all([gates.arrived(first), gates.arrived(second)])
      gates.release(second)
      await b
      gates.release(first)
      await a
      expect(await stored(browser.sid)).toEqual({ userId: 'ada', a: '1', b: '2' })
    })
  })
})
