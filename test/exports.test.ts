import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

interface Listed {
  esm: string[]
  cjs: string[]
  defaultIsNamedPlugin: boolean
}

const fixture = fileURLToPath(new URL('./fixtures/list-exports.mjs', import.meta.url))
const listed = JSON.parse(
  execFileSync(process.execPath, [fixture], { encoding: 'utf8' }),
) as Record<string, Listed>

/** The names users and the other packages rely on; more exports are fine. */
const required: Record<string, string[]> = {
  '@uptimekit/health': [
    'createHealth',
    'redisCheck',
    'mongooseCheck',
    'mongoCheck',
    'pgCheck',
    'mysqlCheck',
    'httpCheck',
    'heapCheck',
    'diskCheck',
    'eventLoopCheck',
    'isInvalidOptionError',
  ],
  '@uptimekit/health/express': ['healthRouter'],
  '@uptimekit/health/fastify': ['healthPlugin', 'default'],
  '@uptimekit/shutdown': ['createShutdown', 'isInvalidOptionError'],
  '@uptimekit/shutdown/express': [],
  '@uptimekit/shutdown/fastify': ['shutdownPlugin', 'default'],
  '@uptimekit/metrics': [
    'createMetrics',
    'observeBreaker',
    'observeHealth',
    'isInvalidOptionError',
  ],
  '@uptimekit/metrics/express': ['metricsMiddleware', 'metricsHandler', 'expressMetrics'],
  '@uptimekit/metrics/fastify': ['metricsPlugin', 'default'],
  '@uptimekit/breaker': ['CircuitBreaker', 'retry', 'isCircuitOpenError', 'isInvalidOptionError'],
  '@uptimekit/breaker/express': ['breakerGuard'],
  '@uptimekit/breaker/fastify': ['breakerPlugin', 'default'],
  '@uptimekit/session': ['createRedisClient', 'isInvalidOptionError'],
  '@uptimekit/session/express': ['redisSession'],
  '@uptimekit/session/fastify': ['redisSessionPlugin', 'default'],
}

describe('every entry point loads from its build, as ESM and as CommonJS', () => {
  it.each(Object.entries(required))('%s has its named exports', (specifier, names) => {
    const entry = listed[specifier]!
    expect(entry.esm).toEqual(expect.arrayContaining(names))
    expect(entry.esm.length).toBeGreaterThan(0)
  })

  it.each(Object.keys(required))('%s exports the same names from both builds', (specifier) => {
    const entry = listed[specifier]!
    const withoutEsmOnlyMarkers = entry.cjs.filter(
      (name) => name !== '__esModule' && name !== 'module.exports',
    )
    expect(withoutEsmOnlyMarkers).toEqual(entry.esm)
  })

  it.each(Object.keys(required).filter((specifier) => specifier.endsWith('/fastify')))(
    '%s exports its plugin both named and as default',
    (specifier) => {
      expect(listed[specifier]!.defaultIsNamedPlugin).toBe(true)
    },
  )
})
