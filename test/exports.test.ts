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

/** Every entry point's exports, exactly: a name added or lost is a change users see. */
const exact: Record<string, string[]> = {
  '@uptimekit/health': [
    'CheckFailedError',
    'CheckTimeoutError',
    'DEFAULTS',
    'DISK_CHECK_DEFAULTS',
    'EVENT_LOOP_CHECK_DEFAULTS',
    'HEAP_CHECK_DEFAULTS',
    'HTTP_CHECK_DEFAULTS',
    'InvalidOptionError',
    'createHealth',
    'diskCheck',
    'eventLoopCheck',
    'heapCheck',
    'httpCheck',
    'isCheckFailedError',
    'isCheckTimeoutError',
    'isInvalidOptionError',
    'mongoCheck',
    'mongooseCheck',
    'mysqlCheck',
    'pgCheck',
    'redisCheck',
  ],
  '@uptimekit/health/express': ['healthRouter'],
  '@uptimekit/health/fastify': ['default', 'healthPlugin'],
  '@uptimekit/shutdown': [
    'DEFAULTS',
    'HookTimeoutError',
    'InvalidOptionError',
    'ShutdownDisposedError',
    'createShutdown',
    'isHookTimeoutError',
    'isInvalidOptionError',
    'isShutdownDisposedError',
  ],
  '@uptimekit/shutdown/express': ['listenWithShutdown'],
  '@uptimekit/shutdown/fastify': ['default', 'shutdownPlugin'],
  '@uptimekit/metrics': [
    'CLIENT_CLOSED_STATUS',
    'ClusterTimeoutError',
    'DEFAULTS',
    'ERROR_STATUS',
    'InvalidOptionError',
    'OVERFLOW_VALUE',
    'UNMATCHED_ROUTE',
    'createClusterMetrics',
    'createMetrics',
    'isClusterTimeoutError',
    'isInvalidOptionError',
    'observeBalancer',
    'observeBreaker',
    'observeHealth',
    'observeOverload',
    'observeReplicas',
    'shareClusterMetrics',
  ],
  '@uptimekit/metrics/express': ['expressMetrics', 'metricsHandler', 'metricsMiddleware'],
  '@uptimekit/metrics/fastify': ['default', 'metricsPlugin'],
  '@uptimekit/breaker': [
    'CallTimeoutError',
    'CircuitBreaker',
    'CircuitOpenError',
    'DEFAULTS',
    'InvalidOptionError',
    'RetryError',
    'assertBreaker',
    'circuitOpenAnswer',
    'createRouteGuard',
    'isCallTimeoutError',
    'isCircuitOpenError',
    'isInvalidOptionError',
    'isRetryError',
    'retry',
  ],
  '@uptimekit/breaker/express': ['breakerGuard'],
  '@uptimekit/breaker/fastify': ['breakerPlugin', 'default'],
  '@uptimekit/session': [
    'CLIENT_DEFAULTS',
    'CLUSTER_DEFAULTS',
    'DEFAULTS',
    'InvalidOptionError',
    'MAX_RECONNECT_DELAY_MS',
    'META_KEY',
    'MIN_SECRET_LENGTH',
    'RedisSessionStore',
    'SessionUnavailableError',
    'createRedisClient',
    'isInvalidOptionError',
    'isSessionUnavailableError',
  ],
  '@uptimekit/session/express': ['RedisSessionStore', 'redisSession'],
  '@uptimekit/session/fastify': ['default', 'redisSessionPlugin'],
  '@uptimekit/balancer': [
    'BalancerClosedError',
    'DEFAULTS',
    'InvalidOptionError',
    'NoUpstreamError',
    'STRATEGIES',
    'createBalancer',
    'isBalancerClosedError',
    'isInvalidOptionError',
    'isNoUpstreamError',
  ],
  '@uptimekit/balancer/express': ['proxyHandler'],
  '@uptimekit/balancer/fastify': ['default', 'proxyPlugin'],
  '@uptimekit/overload': [
    'DEFAULTS',
    'InvalidOptionError',
    'OVERLOADED',
    'SHED_REASONS',
    'createOverload',
    'isInvalidOptionError',
    'isOverloadedBody',
  ],
  '@uptimekit/overload/express': ['overloadGuard'],
  '@uptimekit/overload/fastify': ['default', 'overloadPlugin'],
  '@uptimekit/replicas': [
    'DEFAULTS',
    'FallbackFullError',
    'InvalidOptionError',
    'NoPrimaryError',
    'NoReadableNodeError',
    'createReplicaSet',
    'isFallbackFullError',
    'isInvalidOptionError',
    'isNoPrimaryError',
    'isNoReadableNodeError',
  ],
  '@uptimekit/replicas/express': ['replicasMiddleware'],
  '@uptimekit/replicas/fastify': ['default', 'replicasPlugin'],
}

describe('every entry point loads from its build, as ESM and as CommonJS', () => {
  it('lists every entry point of every package', () => {
    expect(Object.keys(listed)).toEqual(Object.keys(exact))
  })

  it.each(Object.entries(exact))('%s has exactly its exports', (specifier, names) => {
    expect(listed[specifier]!.esm).toEqual(names)
  })

  it.each(Object.keys(exact))('%s exports the same names from both builds', (specifier) => {
    const entry = listed[specifier]!
    const withoutEsmOnlyMarkers = entry.cjs.filter(
      (name) => name !== '__esModule' && name !== 'module.exports',
    )
    expect(withoutEsmOnlyMarkers).toEqual(entry.esm)
  })

  it.each(Object.keys(exact).filter((specifier) => specifier.endsWith('/fastify')))(
    '%s exports its plugin both named and as default',
    (specifier) => {
      expect(listed[specifier]!.defaultIsNamedPlugin).toBe(true)
    },
  )
})
