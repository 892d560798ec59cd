// The example's whole configuration: read once from environment variables,
// validated before anything starts, so a typo fails the process at boot with a
// message naming the variable rather than at the first request.

/** Probe and metrics paths the service answers on; the Kubernetes manifests must use the same. */
export const PATHS = Object.freeze({
  live: '/live',
  ready: '/ready',
  startup: '/startup',
  health: '/health',
  healthDetailed: '/health/detailed',
  metrics: '/metrics',
})

/**
 * A session secret for local runs only, so several demo instances accept one
 * another's cookies. Refused when NODE_ENV=production.
 */
export const DEMO_SESSION_SECRET = 'uptimekit-demo-only-secret-do-not-use-in-production'

/** Every setting's default; the examples README's table mirrors this object. */
export const DEFAULTS = Object.freeze({
  port: 3000,
  host: '0.0.0.0',
  redisUrl: 'redis://127.0.0.1:6379',
  redisMasterName: 'mymaster',
  sessionStore: 'auto',
  sessionTtlSeconds: 86_400,
  sessionPrefix: 'sess:',
  paymentsTimeoutMs: 2000,
  breakerFailureThreshold: 5,
  breakerResetTimeoutMs: 10_000,
  healthTimeoutMs: 2000,
  healthCacheMs: 1000,
  drainDelayMs: 5000,
  shutdownTimeoutMs: 20_000,
  keepAliveTimeoutMs: 65_000,
  trustProxy: 'loopback',
  logFormat: 'text',
})

const LOG_FORMATS = ['text', 'json']

const SESSION_STORES = ['auto', 'redis', 'memory']

/** Thrown by `loadConfig` with every problem found, one per line. */
export class ConfigError extends Error {
  /** @param {string[]} problems */
  constructor(problems) {
    const noun = problems.length === 1 ? 'problem' : 'problems'
    super(
      `invalid configuration (${problems.length} ${noun}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    )
    this.name = 'ConfigError'
    this.code = 'UPTIMEKIT_EXAMPLE_CONFIG'
    this.problems = problems
  }
}

/**
 * Reads and validates the configuration from `env` (a plain object, usually
 * `process.env`). Throws one ConfigError listing every bad variable.
 *
 * @param {Record<string, string | undefined>} env
 */
export function loadConfig(env) {
  const problems = []
  const production = env.NODE_ENV === 'production'
  const given = (name) => env[name] !== undefined && env[name] !== ''

  const integer = (name, fallback, min, max) => {
    if (!given(name)) return fallback
    const raw = env[name]
    const value = Number(raw)
    if (!/^-?\d+$/.test(raw.trim()) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
      problems.push(`${name} must be an integer ${range} (got ${JSON.stringify(raw)})`)
      return fallback
    }
    return value
  }

  const url = (name, protocols) => {
    if (!given(name)) return undefined
    const raw = env[name]
    let parsed
    try {
      parsed = new URL(raw)
    } catch {
      problems.push(`${name} must be a URL (got ${JSON.stringify(redact(raw))})`)
      return undefined
    }
    if (!protocols.includes(parsed.protocol)) {
      problems.push(
        `${name} must use ${protocols.map((p) => `${p}//`).join(' or ')} (got ${parsed.protocol}//…)`,
      )
      return undefined
    }
    return raw.replace(/\/$/, '')
  }

  const port = integer('PORT', DEFAULTS.port, 0, 65_535)
  const host = given('HOST') ? env.HOST : DEFAULTS.host

  const sessionStore = given('SESSION_STORE') ? env.SESSION_STORE : DEFAULTS.sessionStore
  if (!SESSION_STORES.includes(sessionStore)) {
    problems.push(
      `SESSION_STORE must be one of ${SESSION_STORES.join(', ')} (got ${JSON.stringify(sessionStore)})`,
    )
  } else if (production && sessionStore === 'memory') {
    problems.push(
      `SESSION_STORE must be redis when NODE_ENV=production: an in-memory store loses every session on restart and is not shared between instances (got ${JSON.stringify(sessionStore)})`,
    )
  }

  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']) ?? DEFAULTS.redisUrl
  const redisSentinels = given('REDIS_SENTINELS') ? sentinels(env.REDIS_SENTINELS) : undefined
  if (given('REDIS_SENTINELS') && given('REDIS_URL')) {
    problems.push('REDIS_URL and REDIS_SENTINELS must not both be set: pick one (got both)')
  }
  if (production && !given('REDIS_URL') && !given('REDIS_SENTINELS')) {
    problems.push('REDIS_URL or REDIS_SENTINELS is required when NODE_ENV=production (got neither)')
  }

  let sessionSecret = DEMO_SESSION_SECRET
  if (given('SESSION_SECRET')) {
    sessionSecret = env.SESSION_SECRET
    if (sessionSecret.length < 32) {
      problems.push(
        `SESSION_SECRET must be at least 32 characters (got ${sessionSecret.length} characters)`,
      )
    }
  } else if (production) {
    problems.push('SESSION_SECRET is required when NODE_ENV=production (got nothing)')
  }

  function sentinels(raw) {
    const list = raw.split(',').map((entry) => entry.trim())
    const parsed = list.map((entry) => /^([^:\s]+):(\d{1,5})$/.exec(entry))
    if (parsed.some((match) => match === null || Number(match[2]) > 65_535)) {
      problems.push(
        `REDIS_SENTINELS must be a comma-separated list of host:port (got ${JSON.stringify(raw)})`,
      )
      return undefined
    }
    return parsed.map((match) => ({ host: match[1], port: Number(match[2]) }))
  }

  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:'])
  const paymentsUrl = url('PAYMENTS_URL', ['http:', 'https:'])
  if (production && !given('PAYMENTS_URL')) {
    problems.push('PAYMENTS_URL is required when NODE_ENV=production (got nothing)')
  }

  const drainDelayMs = integer('DRAIN_DELAY_MS', DEFAULTS.drainDelayMs, 0, 600_000)
  const shutdownTimeoutMs = integer('SHUTDOWN_TIMEOUT_MS', DEFAULTS.shutdownTimeoutMs, 1, 3_600_000)
  if (shutdownTimeoutMs <= drainDelayMs) {
    problems.push(
      `SHUTDOWN_TIMEOUT_MS must be greater than DRAIN_DELAY_MS, or in-flight requests get no time after the drain (got ${shutdownTimeoutMs} <= ${drainDelayMs})`,
    )
  }

  for (const name of ['HEALTH_TOKEN', 'METRICS_TOKEN']) {
    if (given(name) && env[name].length < 16) {
      problems.push(`${name} must be at least 16 characters (got ${env[name].length} characters)`)
    }
  }

  const logFormat = given('LOG_FORMAT') ? env.LOG_FORMAT : DEFAULTS.logFormat
  if (!LOG_FORMATS.includes(logFormat)) {
    problems.push(
      `LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')} (got ${JSON.stringify(logFormat)})`,
    )
  }

  const config = {
    production,
    port,
    host,
    instanceId: given('INSTANCE_ID') ? env.INSTANCE_ID : undefined,
    version: given('APP_VERSION') ? env.APP_VERSION : '0.0.0-dev',
    redisUrl,
    redisSentinels,
    redisMasterName: given('REDIS_MASTER_NAME') ? env.REDIS_MASTER_NAME : DEFAULTS.redisMasterName,
    redisPassword: given('REDIS_PASSWORD') ? env.REDIS_PASSWORD : undefined,
    sessionStore,
    sessionSecret,
    sessionSecretIsDemo: sessionSecret === DEMO_SESSION_SECRET,
    sessionTtlSeconds: integer(
      'SESSION_TTL_SECONDS',
      DEFAULTS.sessionTtlSeconds,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    sessionPrefix: given('SESSION_PREFIX') ? env.SESSION_PREFIX : DEFAULTS.sessionPrefix,
    databaseUrl,
    paymentsUrl,
    paymentsTimeoutMs: integer('PAYMENTS_TIMEOUT_MS', DEFAULTS.paymentsTimeoutMs, 1, 600_000),
    breakerFailureThreshold: integer(
      'BREAKER_FAILURE_THRESHOLD',
      DEFAULTS.breakerFailureThreshold,
      1,
      10_000,
    ),
    breakerResetTimeoutMs: integer(
      'BREAKER_RESET_TIMEOUT_MS',
      DEFAULTS.breakerResetTimeoutMs,
      1,
      3_600_000,
    ),
    healthTimeoutMs: integer('HEALTH_TIMEOUT_MS', DEFAULTS.healthTimeoutMs, 1, 600_000),
    healthCacheMs: integer('HEALTH_CACHE_MS', DEFAULTS.healthCacheMs, 0, 600_000),
    healthToken: given('HEALTH_TOKEN') ? env.HEALTH_TOKEN : undefined,
    metricsToken: given('METRICS_TOKEN') ? env.METRICS_TOKEN : undefined,
    drainDelayMs,
    shutdownTimeoutMs,
    keepAliveTimeoutMs: integer('KEEP_ALIVE_TIMEOUT_MS', DEFAULTS.keepAliveTimeoutMs, 1, 3_600_000),
    trustProxy: given('TRUST_PROXY') ? env.TRUST_PROXY : DEFAULTS.trustProxy,
    logFormat,
    paths: PATHS,
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(config)
}

/** A URL as it may appear in a log line: the password replaced by `***`. */
export function redact(raw) {
  try {
    const parsed = new URL(raw)
    if (parsed.password === '') return raw
    parsed.password = '***'
    return parsed.toString()
  } catch {
    return raw.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
  }
}
