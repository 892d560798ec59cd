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
  /** Stops what `construct` started. */
  release?(made: unknown): void | Promise<void>
}

const idleServer = () => createServer()
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
]

const invalidOptionClasses = (): (new (...args: never[]) => unknown)[] =>
  CASES.flatMap(({ name }) => [
    (require(name) as { InvalidOptionError: new (...args: never[]) => unknown }).InvalidOptionError,
  ])

async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    const made = await fn()
    return made
  } catch (error) {
    return error
  }
}

describe.each(CASES)('$name', (pkg) => {
  it('refuses a bad option with InvalidOptionError naming it', async () => {
    const [option, value] = pkg.bad
    const error = await thrown(() => pkg.construct({ [option]: value }))
    expect(error).toMatchObject({ code: 'UPTIMEKIT_INVALID_OPTION', option })
    expect((error as Error).message).toContain(`\`${option}\``)
  })

  it('refuses an unknown option, naming the one it was likely meant to be', async () => {
    const [typo, meant] = pkg.typo
    const error = await thrown(() => pkg.construct({ [typo]: 1 }))
    expect(error).toMatchObject({ code: 'UPTIMEKIT_INVALID_OPTION', option: typo })
    expect((error as Error).message).toContain(`did you mean \`${meant}\``)
  })

  it('refuses a timer option past 2^31-1 ms, which Node would fire at once', async () => {
    const error = await thrown(() => pkg.construct({ [pkg.timer]: 3e9 }))
    expect(error).toMatchObject({ code: 'UPTIMEKIT_INVALID_OPTION', option: pkg.timer })
  })

  it('makes app.ready() reject on a bad plugin option, and the process lives on', async () => {
    const { plugin, options } = await pkg.plugin()
    const app = Fastify()
    onTestFinished(() => app.close())
    const [option, value] = pkg.bad
    void app.register(plugin, options({ [option]: value }) as never)
    await expect(app.ready()).rejects.toMatchObject({ code: 'UPTIMEKIT_INVALID_OPTION' })
  })

  it('throws an error every other package, ESM or CommonJS, recognises with instanceof', async () => {
    const error = await thrown(() => pkg.construct({ [pkg.bad[0]]: pkg.bad[1] }))
    for (const InvalidOptionError of invalidOptionClasses()) {
      expect(error).toBeInstanceOf(InvalidOptionError)
    }
  })
})
