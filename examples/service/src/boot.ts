// Startup shared by both examples: configuration (exit 1 with every problem
// listed), the logger, the service, and the banner listing every endpoint.
import { ConfigError, loadConfig, type Config } from './config.js'
import { createLogger, type ExampleLogger } from './logger.js'
import { createService, type Service } from './service.js'
import { SEED_USERS } from './users.js'

/** Loads the config and builds the service, or exits 1 saying why. */
export async function boot(
  framework: 'express' | 'fastify',
): Promise<{ config: Config; logger: ExampleLogger; service: Service }> {
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${framework} example: ${error.message}\n`)
    process.exit(1)
  }
  const logger = createLogger({ name: config.instanceId ?? framework, format: config.logFormat })
  if (config.sessionSecretIsDemo) {
    logger.warn(
      {},
      'SESSION_SECRET is not set: using the demo secret (refused when NODE_ENV=production)',
    )
  }
  try {
    return { config, logger, service: await createService(config, logger) }
  } catch (error) {
    logger.error({ error }, 'could not start')
    process.exit(1)
  }
}

/** The text printed once the service listens: every endpoint, ready to paste. */
export function banner(framework: string, url: string, service: Service): string {
  const { config } = service
  const { paths } = config
  const token = (value: string | undefined): string =>
    value === undefined ? '' : ' (bearer token)'
  const ada = SEED_USERS[0]!
  const login = JSON.stringify({ username: ada.username, password: ada.password })
  const sessions =
    service.sessions.kind === 'redis'
      ? `Redis at ${service.sessions.where}`
      : `in memory (${service.sessions.reason})`
  const users =
    service.usersKind === 'postgres' ? `Postgres at ${service.databaseWhere}` : 'in memory'
  const upstream = service.paymentsIsLocal
    ? `${service.paymentsUrl} (local; make it fail: curl -X PUT ${service.paymentsUrl}/faults -d '{"failureRate":1}')`
    : service.paymentsUrl
  const routes: Array<[string, string, string]> = [
    ['GET', '/api/users/1', `a user (${users})`],
    ['POST', '/api/login', login],
    ['GET', '/api/profile', 'the logged-in user (session cookie)'],
    ['POST', '/api/logout', 'ends the session'],
    [
      'POST',
      '/api/payments',
      '{"amount":1250,"currency":"EUR"} through the "payments" circuit breaker',
    ],
    ['GET', paths.live, 'liveness: the process is up (never touches a dependency)'],
    ['GET', paths.ready, 'readiness: critical checks pass and not shutting down'],
    ['GET', paths.startup, 'startup probe'],
    ['GET', paths.health, 'every check: healthy / degraded / unhealthy'],
    ['GET', paths.healthDetailed, `version, memory, per-check timings${token(config.healthToken)}`],
    ['GET', paths.metrics, `Prometheus metrics${token(config.metricsToken)}`],
  ]
  const width = Math.max(...routes.map(([, path]) => url.length + path.length))
  const lines = [
    `uptimekit ${framework} example listening on ${url}`,
    '',
    ...routes.map(
      ([method, path, what]) => `  ${method.padEnd(4)} ${`${url}${path}`.padEnd(width)}  ${what}`,
    ),
    '',
    `  sessions:          ${sessions}`,
    `  payments upstream: ${upstream}`,
    `  shutdown:          SIGTERM drains for ${config.drainDelayMs} ms, then closes (at most ${config.shutdownTimeoutMs} ms)`,
    '',
    `  try: curl -i -c /tmp/jar -H 'content-type: application/json' -d '${login}' ${url}/api/login && curl -b /tmp/jar ${url}/api/profile`,
    '',
  ]
  return lines.join('\n')
}

/** The URL to print for a listening address (0.0.0.0 and :: become localhost). */
export function displayUrl(host: string, port: number): string {
  const shown =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  return `http://${shown}:${port}`
}
