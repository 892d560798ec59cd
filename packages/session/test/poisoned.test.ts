import { randomBytes, randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { needService } from '../../../test/support/services.js'
import { sign } from '../src/cookie-signature.js'
import { FRAMEWORKS, recordingLogger, SECRET, type App } from './apps.js'
import { IOREDIS } from './clients.js'
import { closeSharedRedis, openSharedRedis } from './support/shared-redis.js'

const redisUp = await needService('redis')
const CORRUPT = 'corrupt stored session read as no session or repaired'
const COOKIE = '{"originalMaxAge":86400000,"expires":"2999-01-01T00:00:00.000Z","path":"/"}'

/** Stored values that are not what a store writes, and what `/data` must then show. */
const POISONED: [string, string | ((key: string, admin: Redis) => Promise<unknown>), object][] = [
  ['cookie.maxAge "abc"', '{"cookie":{"maxAge":"abc"},"userId":"ada"}', { userId: 'ada' }],
  ['cookie.path "/;x=y"', '{"cookie":{"path":"/;x=y"},"userId":"ada"}', { userId: 'ada' }],
  ['cookie.sameSite "bogus"', '{"cookie":{"sameSite":"bogus"},"userId":"ada"}', { userId: 'ada' }],
  [
    'cookie.domain "bad domain"',
    '{"cookie":{"domain":"bad domain"},"userId":"ada"}',
    { userId: 'ada' },
  ],
  [
    'cookie.originalMaxAge 1e400',
    '{"cookie":{"originalMaxAge":1e400},"userId":"ada"}',
    { userId: 'ada' },
  ],
  [
    'a top-level __proto__',
    `{"cookie":${COOKIE},"__proto__":{"userId":"eve"},"userId":"ada"}`,
    { userId: 'ada' },
  ],
  ['{"cookie":null}', '{"cookie":null}', {}],
  [
    'keys named get and set',
    `{"cookie":${COOKIE},"get":1,"set":2,"save":3,"userId":"ada"}`,
    { userId: 'ada' },
  ],
  ['a value that is not JSON', '{"cookie":', {}],
  ['a JSON array', '[1,2,3]', {}],
  ['a list instead of a string (WRONGTYPE)', (key, admin) => admin.rpush(key, 'x'), {}],
]

/** A random JSON-ish value, deep enough to reach cookie fields and odd types. */
function randomValue(depth: number): unknown {
  const pick = randomBytes(1)[0] as number
  const strings = [
    '',
    'abc',
    '/;x=y',
    'bad domain',
    'lax',
    'none',
    '__proto__',
    '2999-01-01',
    '\u0000',
  ]
  const numbers = [0, -1, 1e308, 86_400_000, 0.5, Number.MAX_SAFE_INTEGER]
  switch (depth > 2 ? pick % 5 : pick % 7) {
    case 0:
      return null
    case 1:
      return pick % 2 === 0
    case 2:
      return numbers[pick % numbers.length]
    case 3:
      return strings[pick % strings.length]
    case 4:
      return randomBytes(4).toString('hex')
    case 5:
      return Array.from({ length: pick % 3 }, () => randomValue(depth + 1))
    default: {
      const keys = [
        'cookie',
        'expires',
        'originalMaxAge',
        'path',
        'sameSite',
        'domain',
        'get',
        'userId',
        '__proto__',
        'constructor',
      ]
      const out: Record<string, unknown> = {}
      for (let i = 0; i < pick % 5; i++) {
        Object.defineProperty(out, keys[(pick + i * 7) % keys.length] as string, {
          value: randomValue(depth + 1),
          enumerable: true,
          configurable: true,
          writable: true,
        })
      }
      return out
    }
  }
}

describe.runIf(redisUp)('corrupt stored sessions', () => {
  describe.each(IOREDIS)('%s', (_client, clients) => {
    describe.each(FRAMEWORKS)('%s', (_name, startApp) => {
      const prefix = `uptimekit-test-poisoned:${randomUUID()}:`
      const logger = recordingLogger()
      let redis: Redis
      let admin: Redis
      let app: App
      beforeAll(async () => {
        ;({ redis, admin } = await openSharedRedis(clients))
        app = await startApp({ redis, secret: SECRET, prefix, logger })
      })
      afterAll(async () => {
        await app.close()
        await closeSharedRedis({ redis, admin }, prefix)
      })

      const cookieFor = (sid: string): string =>
        `connect.sid=${encodeURIComponent(`s:${sign(sid, SECRET)}`)}`
      const poison = async (
        value: string | ((key: string, admin: Redis) => Promise<unknown>),
      ): Promise<string> => {
        const sid = randomUUID()
        if (typeof value === 'string') await admin.set(`${prefix}${sid}`, value, 'PX', 60_000)
        else await value(`${prefix}${sid}`, admin)
        return sid
      }

      it.each(POISONED)(
        'reads a stored session with %s as data, and writes to it without a crash',
        async (_what, value, data) => {
          const sid = await poison(value)
          const headers = { cookie: cookieFor(sid) }
          const read = await fetch(`${app.url}/data`, { headers })
          expect(read.status).toBe(200)
          expect(await read.json()).toEqual(data)
          const write = await fetch(`${app.url}/put?key=visits&value=1`, {
            method: 'POST',
            headers,
          })
          expect(write.status).toBe(200)
          expect(await write.json()).toEqual({ visits: '1' })
          for (const line of write.headers.getSetCookie()) {
            expect(line).toMatch(/; Path=\/(;|$)/)
            expect(line).not.toMatch(/x=y|bad domain|bogus/i)
          }
          expect((await fetch(`${app.url}/public`)).status).toBe(200)
        },
      )

      it('logs a corrupt session once however often it is requested, and never answers others 503', async () => {
        const sid = await poison('{"cookie":null}')
        const good = await fetch(`${app.url}/login?user=grace`, { method: 'POST' })
        const goodCookie = (good.headers.getSetCookie()[0] as string).split(';')[0] as string
        const before = logger.lines.length
        const statuses = new Map<string, number>()
        for (let i = 0; i < 40; i++) {
          const [bad, other] = await Promise.all([
            fetch(`${app.url}/me`, { headers: { cookie: cookieFor(sid) } }),
            fetch(`${app.url}/me`, { headers: { cookie: goodCookie } }),
          ])
          const key = `${bad.status}/${other.status}`
          statuses.set(key, (statuses.get(key) ?? 0) + 1)
          expect(await other.json()).toEqual({ userId: 'grace', visits: 0 })
          await bad.arrayBuffer()
        }
        expect(Object.fromEntries(statuses)).toEqual({ '200/200': 40 })
        expect(logger.lines.slice(before).map(({ level, msg }) => [level, msg])).toEqual([
          ['warn', CORRUPT],
        ])
        expect(JSON.stringify(logger.lines)).not.toContain(sid)
      })

      it('never crashes, answers 5xx or stalls on 150 random stored values', async () => {
        const statuses = new Map<number, number>()
        for (let i = 0; i < 150; i++) {
          const value = JSON.stringify(randomValue(0))
          const sid = await poison(value)
          const headers = { cookie: cookieFor(sid) }
          for (const res of [
            await fetch(`${app.url}/data`, { headers, signal: AbortSignal.timeout(5000) }),
            await fetch(`${app.url}/put?key=n&value=${i}`, {
              method: 'POST',
              headers,
              signal: AbortSignal.timeout(5000),
            }),
          ]) {
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
            await res.arrayBuffer()
          }
        }
        expect(Object.fromEntries(statuses)).toEqual({ 200: 300 })
        expect(logger.lines.filter(({ msg }) => msg !== CORRUPT)).toEqual([])
      }, 120_000)
    })
  })
})
