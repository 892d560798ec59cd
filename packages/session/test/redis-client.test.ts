import { spawn } from 'node:child_process'
import type { Redis } from 'ioredis'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { closedPort } from '../../../test/support/ports.js'
import { isInvalidOptionError } from '../src/errors.js'
import { createRedisClient } from '../src/redis-client.js'
import { recordingLogger } from './apps.js'
import { IOREDIS } from './clients.js'
import { ready, startRedis } from './redis-server.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('createRedisClient', () => {
  it.each([
    [
      'http://user:hunter2-password@127.0.0.1:6379',
      '`url` must be a redis:// or rediss:// URL (got a http: URL)',
    ],
    ['not a url', '`url` must be a redis:// or rediss:// URL (got a string that is not a URL)'],
    [
      { sentinels: [], name: 'm' },
      '`sentinels` must be a non-empty array of { host, port } (got an empty array)',
    ],
    [
      { sentinels: [{ host: 'a', port: 1 }] },
      '`name` must name the Sentinel master group (got undefined)',
    ],
    [{ cluster: [] }, '`cluster` must be a non-empty array of { host, port } (got an empty array)'],
    [
      { cluster: 'redis-0:6379' },
      '`cluster` must be a non-empty array of { host, port } (got "redis-0:6379")',
    ],
  ] as const)('rejects %j at creation', (target, message) => {
    let caught: unknown
    try {
      createRedisClient(target as never)
    } catch (err) {
      caught = err
    }
    expect(isInvalidOptionError(caught)).toBe(true)
    expect((caught as Error).message).toBe(message)
    expect((caught as Error).message).not.toContain('hunter2')
  })

  it('rejects an unknown option naming the closest one', () => {
    expect(() => createRedisClient('redis://127.0.0.1:6379', { loger: false } as never)).toThrow(
      '`loger` is not an option of createRedisClient; did you mean `logger`?',
    )
  })
})

describe.each(IOREDIS)('createRedisClient on %s', (_client, clients) => {
  const createRedisClient = (...args: Parameters<typeof clients.create>): Redis =>
    clients.create(...args)

  it('logs an outage once, without credentials, and its end once, across many reconnects and commands', async () => {
    const port = await closedPort()
    const logger = recordingLogger()
    const redis = createRedisClient(`redis://:hunter2-password@127.0.0.1:${port}`, { logger })
    onTestFinished(() => redis.disconnect())
    for (let i = 0; i < 5; i++) {
      await expect(redis.get('k')).rejects.toThrow("Stream isn't writeable")
      await sleep(300)
    }
    const server = await startRedis({ port, args: ['--requirepass', 'hunter2-password'] })
    onTestFinished(() => server.stop())
    await ready(redis)
    expect(await redis.set('k', 'v')).toBe('OK')
    expect(logger.lines.map(({ level, msg }) => [level, msg])).toEqual([
      ['error', 'redis unavailable; reconnecting with backoff'],
      ['info', 'redis available again'],
    ])
    expect(logger.lines[0]!.obj).toEqual({
      redis: `redis://127.0.0.1:${port}`,
      err: { message: `connect ECONNREFUSED 127.0.0.1:${port}`, code: 'ECONNREFUSED' },
    })
    expect(JSON.stringify(logger.lines)).not.toContain('hunter2')
  })

  it('writes both the outage and the recovery to the default stderr logger', async () => {
    const port = await closedPort()
    const written: string[] = []
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk))
      return true
    })
    onTestFinished(() => write.mockRestore())
    const redis = createRedisClient(`redis://:hunter2-password@127.0.0.1:${port}`)
    onTestFinished(() => redis.disconnect())
    while (written.length === 0) await sleep(20)
    const server = await startRedis({ port, args: ['--requirepass', 'hunter2-password'] })
    onTestFinished(() => server.stop())
    await ready(redis)
    write.mockRestore()
    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines.map(({ level, msg, name }) => [level, msg, name])).toEqual([
      ['error', 'redis unavailable; reconnecting with backoff', '@uptimekit/session'],
      ['info', 'redis available again', '@uptimekit/session'],
    ])
    expect(written.join('')).not.toContain('hunter2')
  })

  it('never writes a password from the URL to the default stderr logger, even when Redis rejects it', async () => {
    const server = await startRedis({ args: ['--requirepass', 'the-right-password'] })
    onTestFinished(() => server.stop())
    const written: string[] = []
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk))
      return true
    })
    onTestFinished(() => write.mockRestore())
    const redis = createRedisClient(`redis://default:hunter2-wrong@127.0.0.1:${server.port}`)
    onTestFinished(() => redis.disconnect())
    await expect(
      new Promise((resolve, reject) => {
        redis.once('ready', resolve)
        redis.once('error', reject)
      }),
    ).rejects.toThrow('WRONGPASS')
    write.mockRestore()
    const lines = written.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines.map(({ level, msg, redis: where }) => [level, msg, where])).toEqual([
      ['error', 'redis unavailable; reconnecting with backoff', `redis://127.0.0.1:${server.port}`],
    ])
    expect(written.join('')).not.toContain('hunter2')
  })

  it('connects with TLS for a rediss:// URL and names it without the password', async () => {
    const port = await closedPort()
    const logger = recordingLogger()
    const redis = createRedisClient(`rediss://:hunter2-password@127.0.0.1:${port}`, { logger })
    onTestFinished(() => redis.disconnect())
    expect(redis.options.tls).toBe(true)
    await expect(redis.get('k')).rejects.toThrow("Stream isn't writeable")
    while (logger.lines.length === 0) await sleep(20)
    expect(logger.lines).toEqual([
      {
        level: 'error',
        obj: {
          redis: `rediss://127.0.0.1:${port}`,
          err: { message: `connect ECONNREFUSED 127.0.0.1:${port}`, code: 'ECONNREFUSED' },
        },
        msg: 'redis unavailable; reconnecting with backoff',
      },
    ])
  })

  it('fails commands at once while disconnected instead of queueing them', async () => {
    const redis = createRedisClient(`redis://127.0.0.1:${await closedPort()}`, {
      logger: recordingLogger(),
    })
    onTestFinished(() => redis.disconnect())
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => redis.get('k')))
    expect(results.every((r) => r.status === 'rejected')).toBe(true)
    expect((redis as unknown as { offlineQueue: { length: number } }).offlineQueue.length).toBe(0)
  })

  it('quits a client that never connected without an error, and leaves nothing running', async () => {
    const redis = createRedisClient(`redis://127.0.0.1:${await closedPort()}`, { logger: false })
    onTestFinished(() => redis.disconnect())
    await expect(redis.quit()).resolves.toBe('OK')
    expect(redis.status).toBe('end')
  })
})

describe('createRedisClient in a process of its own', () => {
  it('lets the process exit after quit() on a client that never connected', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/quit-unconnected.mjs', import.meta.url))
    const child = spawn(process.execPath, [fixture, String(await closedPort())], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    onTestFinished(() => void child.kill('SIGKILL'))
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect({ code, out }).toEqual({ code: 0, out: 'OK\n' })
  }, 20_000)
})

describe('createRedisClient({ cluster })', () => {
  it('passes cluster options through over its defaults, keeping the node defaults not overridden', async () => {
    const port = await closedPort()
    const natMap = { '10.0.0.1:6379': { host: '127.0.0.1', port } }
    const cluster = createRedisClient(
      {
        cluster: [{ host: '127.0.0.1', port }],
        natMap,
        scaleReads: 'slave',
        slotsRefreshTimeout: 2500,
        slotsRefreshInterval: 7000,
        redisOptions: { password: 'hunter2-password', connectTimeout: 3000 },
      },
      { logger: false },
    )
    onTestFinished(() => cluster.disconnect())
    expect(cluster.options).toMatchObject({
      natMap,
      scaleReads: 'slave',
      slotsRefreshTimeout: 2500,
      slotsRefreshInterval: 7000,
      enableOfflineQueue: false,
      maxRedirections: 60,
      redisOptions: {
        password: 'hunter2-password',
        connectTimeout: 3000,
        commandTimeout: 15_000,
        keepAlive: 10_000,
      },
    })
  })

  it('logs an unreachable cluster once, by its seed addresses, without the password', async () => {
    const port = await closedPort()
    const logger = recordingLogger()
    const cluster = createRedisClient(
      { cluster: [{ host: '127.0.0.1', port }], redisOptions: { password: 'hunter2-password' } },
      { logger },
    )
    onTestFinished(() => cluster.disconnect())
    await logger.logged('redis cluster unavailable; reconnecting with backoff')
    await expect(cluster.get('k')).rejects.toThrow()
    await sleep(1500)
    expect(logger.lines.map(({ level, msg }) => [level, msg])).toEqual([
      ['error', 'redis cluster unavailable; reconnecting with backoff'],
    ])
    expect(logger.lines[0]!.obj).toMatchObject({ redis: `cluster 127.0.0.1:${port}` })
    expect(JSON.stringify(logger.lines)).not.toContain('hunter2')
  })
})
