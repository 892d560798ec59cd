// Everything the two examples share that is not framework code: the users,
// the payment upstream and its breaker, the session store's Redis client, the
// health checks and the metrics registry, and the order they close in.
import { CircuitBreaker } from '@uptimekit/breaker'
import {
  createHealth,
  diskCheck,
  eventLoopCheck,
  heapCheck,
  httpCheck,
  pgCheck,
  redisCheck,
} from '@uptimekit/health'
import { observeBreaker, observeHealth } from '@uptimekit/metrics'
import pg from 'pg'
import { Registry } from 'prom-client'
import { createApi } from './api.mjs'
import { redact } from './config.mjs'
import { createPaymentsClient } from './payments-client.mjs'
import { createPaymentsUpstream } from './payments-upstream.mjs'
import { closeRedis, openSessionStore } from './sessions.mjs'
import { createMemoryUsers, createPgUsers } from './users.mjs'

/**
 * Builds the service from a validated config. Resolves once the database is
 * seeded and the session store is chosen; nothing listens yet.
 */
export async function createService(config, logger) {
  const closeHooks = []

  let pool
  let users
  if (config.databaseUrl === undefined) {
    users = await createMemoryUsers()
  } else {
    pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: 10,
      connectionTimeoutMillis: config.healthTimeoutMs,
    })
    // An idle client losing its connection must not crash the process; the
    // health check reports the outage.
    pool.on('error', (error) => logger.warn({ error: error.message }, 'postgres client error'))
    users = await createPgUsers(pool)
  }

  let upstream
  let paymentsUrl = config.paymentsUrl
  if (paymentsUrl === undefined) {
    upstream = createPaymentsUpstream()
    paymentsUrl = await upstream.listen(0, '127.0.0.1')
  }

  const sessions = await openSessionStore(config, logger)

  const breaker = new CircuitBreaker({
    name: 'payments',
    failureThreshold: config.breakerFailureThreshold,
    successThreshold: 2,
    resetTimeoutMs: config.breakerResetTimeoutMs,
    halfOpenMaxCalls: 1,
    logger,
  })
  breaker.onStateChange(({ from, to }) =>
    logger.info({ breaker: breaker.name, from, to }, 'circuit breaker state changed'),
  )

  const checks = {
    heap: heapCheck({ maxUsedRatio: 0.9 }),
    disk: diskCheck({ path: '/', minFreeRatio: 0.05 }),
    eventLoop: eventLoopCheck({ maxDelayMs: 200 }),
    // The upstream and its breaker are not critical: with payments down the
    // rest of the API still works, so the instance stays in rotation.
    payments: { check: httpCheck(`${paymentsUrl}/health`), critical: false },
    paymentsBreaker: { check: breaker.healthCheck(), critical: false },
  }
  if (sessions.kind === 'redis') checks.redis = redisCheck(sessions.redis)
  if (pool !== undefined) checks.postgres = pgCheck(pool)
  const health = createHealth({
    checks,
    timeoutMs: config.healthTimeoutMs,
    cacheMs: config.healthCacheMs,
    version: config.version,
    detailsToken: config.healthToken,
    logger,
  })

  const registry = new Registry()
  observeBreaker(breaker, { registry })
  observeHealth(health, { registry, logger })

  // Close hooks run after the last response, in this order.
  if (sessions.kind === 'redis') closeHooks.push(['redis', () => closeRedis(sessions.redis)])
  if (pool !== undefined) closeHooks.push(['postgres', () => pool.end()])
  if (upstream !== undefined) closeHooks.push(['payments-upstream', () => upstream.close()])
  closeHooks.push(['health', () => health.close()])

  return {
    config,
    logger,
    api: createApi({
      users,
      charge: createPaymentsClient({ baseUrl: paymentsUrl, timeoutMs: config.paymentsTimeoutMs }),
    }),
    usersKind: users.kind,
    databaseWhere: config.databaseUrl === undefined ? undefined : redact(config.databaseUrl),
    sessions,
    health,
    breaker,
    registry,
    paymentsUrl,
    paymentsIsLocal: upstream !== undefined,
    closeHooks,
  }
}
