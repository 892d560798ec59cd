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
import type { HealthCheck, HealthCheckEntry } from '@uptimekit/health'
import pg from 'pg'
import { Registry } from 'prom-client'
import { createApi } from './api.js'
import { redact } from './config.js'
import { createPaymentsClient } from './payments-client.js'
import { createPaymentsUpstream } from './payments-upstream.js'
import type { Api } from './api.js'
import type { Config } from './config.js'
import type { ExampleLogger } from './logger.js'
import { closeRedis, openSessionStore, type SessionStoreChoice } from './sessions.js'
import { createMemoryUsers, createPgUsers, type Users } from './users.js'

/** The service both examples serve: everything but the framework. */
export interface Service {
  readonly config: Config
  readonly logger: ExampleLogger
  readonly api: Api
  readonly usersKind: Users['kind']
  readonly databaseWhere: string | undefined
  readonly sessions: SessionStoreChoice
  readonly health: ReturnType<typeof createHealth>
  readonly breaker: CircuitBreaker
  readonly registry: Registry
  readonly paymentsUrl: string
  readonly paymentsIsLocal: boolean
  /** Close hooks, run after the last response, in this order. */
  readonly closeHooks: ReadonlyArray<readonly [string, () => unknown]>
}

/**
 * Builds the service from a validated config. Resolves once the database is
 * seeded and the session store is chosen; nothing listens yet.
 */
export async function createService(config: Config, logger: ExampleLogger): Promise<Service> {
  const closeHooks: Array<readonly [string, () => unknown]> = []

  let pool: pg.Pool | undefined
  let users: Users
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

  let upstream: ReturnType<typeof createPaymentsUpstream> | undefined
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

  const checks: Record<string, HealthCheck | HealthCheckEntry> = {
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
    token: config.healthToken,
    logger,
  })

  const registry = new Registry()
  observeBreaker(breaker, { registry })
  observeHealth(health, { registry, logger })

  // Close hooks run after the last response, in this order.
  if (sessions.kind === 'redis') {
    const { redis } = sessions
    closeHooks.push(['redis', () => closeRedis(redis)])
  }
  const database = pool
  if (database !== undefined) closeHooks.push(['postgres', () => database.end()])
  const localUpstream = upstream
  if (localUpstream !== undefined) {
    closeHooks.push(['payments-upstream', () => localUpstream.close()])
  }
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
