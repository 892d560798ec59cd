import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import Fastify, { type FastifyPluginAsync } from 'fastify'
import { describe, expect, it, onTestFinished } from 'vitest'

// One list of cases run over every package: the promises every uptimekit package makes the same
// way, whatever it does.

const require = createRequire(import.meta.url)

interface PackageCase {
  /** The package, as users import it. */
  readonly name: string
  /** Builds the package's main object with `options` on top of a valid base. */
  construct(options: Record<string, unknown>): unknown
  /** An option and a value it must refuse. */
  readonly bad: readonly [string, unknown]
  /** A misspelt key and the option it should be taken for. */
  readonly typo: readonly [string, string]
  /** A millisecond option that reaches a timer. */
  readonly timer: string
  /** The Fastify plugin and the options it registers with, on top of a valid base. */
  plugin(): Promise<{ plugin: FastifyPluginAsync<never>; options: (extra: object) => object }>
  /** An option the plugin must refuse, where its options differ from `construct`'s. */
  readonly pluginBad?: readonly [string, unknown]
  /** Stops what `construct` started. */
  release?(made: unknown): void | Promise<void>
}

const idleServer = () => createServer()
const SECRET = 'a-conformance-secret-of-32-characters-or-more'
// A pool that never reaches a database: the replica set's probes fail, nothing else is needed.
const unreachablePool = () => ({ query: () => Promise.reject(new Error('no database here')) })
const closable = (made: unknown) =>
  (made as { close?: () => unknown } | null)?.close?.() as void | Promise<void>

const CASES: PackageCase[] = [
  {
    name: '@uptimekit/health',
    construct: async (options) => (await import('@uptimekit/health')).createHealth(options),
    bad: ['timeoutMs', -5],
    typo: ['timeotMs', 'timeoutMs'],
    timer: 'timeoutMs',
    plugin: async () => ({
      plugin: (await import('@uptimekit/health/fastify')).healthPlugin,
      options: (extra) => extra,
    }),
    release: closable,
  },
  {
    name: '@uptimekit/shutdown',
    construct: async (options) =>
      (await import('@uptimekit/shutdown')).createShutdown(idleServer(), {
        signals: [],
        logger: false,
        ...options,
      }),
    bad: ['drainDelayMs', 'soon'],
    typo: ['drainDelay', 'drainDelayMs'],
    timer: 'timeoutMs',
    plugin: async () => ({
      plugin: (await import('@uptimekit/shutdown/fastify')).shutdownPlugin,
      options: (extra) => ({ signals: [], logger: false, ...extra }),
    }),
    release: (made) => (made as { dispose?: () => void }).dispose?.(),
  },
  {
    name: '@uptimekit/metrics',
    construct: async (options) => {
      const { Registry } = await import('prom-client')
      return (await import('@uptimekit/metrics')).createMetrics({
        registry: new Registry(),
        ...options,
      })
    },
    bad: ['token', 'short'],
    typo: ['tokne', 'token'],
    timer: 'connectionsIntervalMs',
    plugin: async () => {
      const { Registry } = await import('prom-client')
      return {
        plugin: (await import('@uptimekit/metrics/fastify')).metricsPlugin,
        options: (extra) => ({ registry: new Registry(), ...extra }),
      }
    },
    release: closable,
  },
  {
    name: '@uptimekit/breaker',
    construct: async (options) =>
      new (await import('@uptimekit/breaker')).CircuitBreaker({ name: 'conformance', ...options }),
    bad: ['failureThreshold', 0],
    typo: ['failureTreshold', 'failureThreshold'],
    timer: 'callTimeoutMs',
    plugin: async () => ({
      plugin: (await import('@uptimekit/breaker/fastify')).breakerPlugin,
      options: (extra) => extra,
    }),
  },
  {
    name: '@uptimekit/session',
    construct: async (options) => {
      const { createRedisClient } = await import('@uptimekit/session')
      const redis = createRedisClient('redis://127.0.0.1:6379', { logger: false })
      onTestFinished(() => redis.disconnect())
      return (await import('@uptimekit/session/express')).redisSession({
        redis,
        secret: SECRET,
        logger: false,
        ...options,
      })
    },
    bad: ['secret', 'too short'],
    typo: ['ttlSecond', 'ttlSeconds'],
    timer: 'unavailableTimeoutMs',
    plugin: async () => {
      const { createRedisClient } = await import('@uptimekit/session')
      const redis = createRedisClient('redis://127.0.0.1:6379', { logger: false })
      onTestFinished(() => redis.disconnect())
      return {
        plugin: (await import('@uptimekit/session/fastify')).redisSessionPlugin,
        options: (extra) => ({ redis, secret: SECRET, logger: false, ...extra }),
      }
    },
  },
  {
    name: '@uptimekit/balancer',
    construct: async (options) =>
      (await import('@uptimekit/balancer')).createBalancer({
        upstreams: ['http://127.0.0.1:9'],
        logger: false,
        ...options,
      }),
    bad: ['strategy', 'fastest'],
    typo: ['stratgy', 'strategy'],
    timer: 'failTimeoutMs',
    plugin: async () => {
      const balancer = (await import('@uptimekit/balancer')).createBalancer({
        upstreams: ['http://127.0.0.1:9'],
        logger: false,
      })
      onTestFinished(() => balancer.close())
      return {
        plugin: (await import('@uptimekit/balancer/fastify')).proxyPlugin,
        options: (extra) => ({ balancer, ...extra }),
      }
    },
    pluginBad: ['prefix', 5],
    release: closable,
  },
  {
    name: '@uptimekit/overload',
    construct: async (options) =>
      (await import('@uptimekit/overload')).createOverload({ logger: false, ...options }),
    bad: ['maxQueueWaitMs', -1],
    typo: ['maxQueueWait', 'maxQueueWaitMs'],
    timer: 'maxQueueWaitMs',
    plugin: async () => ({
      plugin: (await import('@uptimekit/overload/fastify')).overloadPlugin,
      options: (extra) => extra,
    }),
    pluginBad: ['overload', 'not a shedder'],
    release: closable,
  },
  {
    name: '@uptimekit/replicas',
    construct: async (options) =>
      (await import('@uptimekit/replicas')).createReplicaSet({
        kind: 'pg',
        nodes: [unreachablePool()],
        logger: false,
        ...options,
      }),
    bad: ['maxLagSeconds', -1],
    typo: ['intervalMS', 'intervalMs'],
    timer: 'intervalMs',
    plugin: async () => {
      const db = (await import('@uptimekit/replicas')).createReplicaSet({
        kind: 'pg',
        nodes: [unreachablePool()],
        logger: false,
      })
      onTestFinished(() => db.close())
      return {
        plugin: (await import('@uptimekit/replicas/fastify')).replicasPlugin,
        options: (extra) => ({ db, secret: SECRET, ...extra }),
      }
    },
    pluginBad: ['secret', 'too short'],
    release: closable,
  },
]

const invalidOptionClasses = (): (new (...args: never[]) => unknown)[] =>
  CASES.flatMap(({ name }) => [
    (require(name) as { InvalidOptionError: new (...args: never[]) => unknown }).InvalidOptionError,
  ])

/** What constructing with `options` gives: the error thrown, or the object (then released). */
async function attempt(pkg: PackageCase, options: Record<string, unknown>): Promise<unknown> {
  try {
    const made = await pkg.construct(options)
    await pkg.release?.(made)
    return made
  } catch (error) {
    return error
  }
}

describe.each(CASES)('$name', (pkg) => {
  it('refuses a bad option with InvalidOptionError naming it', async () => {
    const [option, value] = pkg.bad
    const error = await attempt(pkg, { [option]: value })
    expect(error).toMatchObject({ code: 'UPTIMEKIT_INVALID_OPTION', option })
    expect((error as Error).message).toContain(`\`${option}\``)
  })

  it('refuses an unknown option, naming the one it was likely meant to be', async () => {
    const [typo, meant] = pkg.typo
    const error = await attempt(pkg, { [typo]: 1 })
    expect(error).toMatchObject({ code: 'UPTIMEKIT_INVALID_OPTION', option: typo })
    expect((error as Error).message).toContain(`did you mean \`${meant}\``)
  })

  it('refuses a timer option past 2^31-1 ms, which Node would fire at once', async () => {
    const error = await attempt(pkg, { [pkg.timer]: 3e9 })
    expect(error).toMatchObject({ code: 'UPTIMEKIT_INVALID_OPTION', option: pkg.timer })
  })

  it('makes app.ready() reject on a bad plugin option, and the process lives on', async () => {
    const { plugin, options } = await pkg.plugin()
    const app = Fastify()
    onTestFinished(() => app.close())
    const [option, value] = pkg.pluginBad ?? pkg.bad
    void app.register(plugin, options({ [option]: value }) as never)
    await expect(app.ready()).rejects.toMatchObject({ code: 'UPTIMEKIT_INVALID_OPTION' })
  })

  it('freezes its DEFAULTS, nested arrays and objects included', () => {
    const unfrozen: string[] = []
    const walk = (value: unknown, path: string): void => {
      if (typeof value !== 'object' || value === null) return
      if (!Object.isFrozen(value)) unfrozen.push(path)
      for (const [key, inner] of Object.entries(value)) walk(inner, `${path}.${key}`)
    }
    const { DEFAULTS } = require(pkg.name) as { DEFAULTS: unknown }
    expect(DEFAULTS).toEqual(expect.any(Object))
    walk(DEFAULTS, 'DEFAULTS')
    expect(unfrozen).toEqual([])
  })

  it('throws an error every other package, ESM or CommonJS, recognises with instanceof', async () => {
    const error = await attempt(pkg, { [pkg.bad[0]]: pkg.bad[1] })
    for (const InvalidOptionError of invalidOptionClasses()) {
      expect(error).toBeInstanceOf(InvalidOptionError)
    }
  })
})
