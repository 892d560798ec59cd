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
  healthTimeoutMs: 800,
  healthCacheMs: 1000,
  drainDelayMs: 5000,
  shutdownTimeoutMs: 20_000,
  keepAliveTimeoutMs: 65_000,
  trustProxy: 'loopback',
  logFormat: 'text',
})

const LOG_FORMATS = ['text', 'json'] as const

const SESSION_STORES = ['auto', 'redis', 'memory'] as const

/** A Sentinel's address. */
export interface SentinelAddress {
  host: string
  port: number
}

/** The example's validated configuration. */
export interface Config {
  readonly production: boolean
  readonly port: number
  readonly host: string
  readonly instanceId: string | undefined
  readonly version: string
  readonly redisUrl: string
  readonly redisSentinels: SentinelAddress[] | undefined
  readonly redisMasterName: string
  readonly redisPassword: string | undefined
  readonly sessionStore: (typeof SESSION_STORES)[number]
  readonly sessionSecret: string
  readonly sessionSecretIsDemo: boolean
  readonly sessionTtlSeconds: number
  readonly sessionPrefix: string
  readonly databaseUrl: string | undefined
  readonly paymentsUrl: string | undefined
  readonly paymentsTimeoutMs: number
  readonly breakerFailureThreshold: number
  readonly breakerResetTimeoutMs: number
  readonly healthTimeoutMs: number
  readonly healthCacheMs: number
  readonly healthToken: string | undefined
  readonly metricsToken: string | undefined
  readonly drainDelayMs: number
  readonly shutdownTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly trustProxy: string
  readonly logFormat: (typeof LOG_FORMATS)[number]
  readonly paths: typeof PATHS
}

const isOneOf = <T extends string>(choices: readonly T[], value: string): value is T =>
  (choices as readonly string[]).includes(value)

/** Thrown by `loadConfig` with every problem found, one per line. */
export class ConfigError extends Error {
  readonly code = 'UPTIMEKIT_EXAMPLE_CONFIG'
  readonly problems: readonly string[]
  constructor(problems: string[]) {
    const noun = problems.length === 1 ? 'problem' : 'problems'
    super(
      `invalid configuration (${problems.length} ${noun}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    )
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/**
 * Reads and validates the configuration from `env` (a plain object, usually
 * `process.env`). Throws one ConfigError listing every bad variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = []
  const production = env.NODE_ENV === 'production'
  const value = (name: string): string | undefined => {
    const raw = env[name]
    return raw === undefined || raw === '' ? undefined : raw
  }
  const given = (name: string): boolean => value(name) !== undefined

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name)
    if (raw === undefined) return fallback
    const parsed = Number(raw)
    if (!/^-?\d+$/.test(raw.trim()) || parsed < min || parsed > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
      problems.push(`${name} must be an integer ${range} (got ${JSON.stringify(raw)})`)
      return fallback
    }
    return parsed
  }

  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = value(name)
    if (raw === undefined) return undefined
    let parsed: URL
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
  const host = value('HOST') ?? DEFAULTS.host

  const rawSessionStore = value('SESSION_STORE') ?? DEFAULTS.sessionStore
  let sessionStore: Config['sessionStore'] = DEFAULTS.sessionStore
  if (!isOneOf(SESSION_STORES, rawSessionStore)) {
    problems.push(
      `SESSION_STORE must be one of ${SESSION_STORES.join(', ')} (got ${JSON.stringify(rawSessionStore)})`,
    )
  } else if (production && rawSessionStore === 'memory') {
    problems.push(
      `SESSION_STORE must be redis when NODE_ENV=production: an in-memory store loses every session on restart and is not shared between instances (got ${JSON.stringify(rawSessionStore)})`,
    )
  } else {
    sessionStore = rawSessionStore
  }

  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']) ?? DEFAULTS.redisUrl
  const rawSentinels = value('REDIS_SENTINELS')
  const redisSentinels = rawSentinels === undefined ? undefined : sentinels(rawSentinels)
  if (given('REDIS_SENTINELS') && given('REDIS_URL')) {
    problems.push('REDIS_URL and REDIS_SENTINELS must not both be set: pick one (got both)')
  }
  if (production && !given('REDIS_URL') && !given('REDIS_SENTINELS')) {
    problems.push('REDIS_URL or REDIS_SENTINELS is required when NODE_ENV=production (got neither)')
  }

  let sessionSecret = DEMO_SESSION_SECRET
  const givenSecret = value('SESSION_SECRET')
  if (givenSecret !== undefined) {
    sessionSecret = givenSecret
    if (sessionSecret.length < 32) {
      problems.push(
        `SESSION_SECRET must be at least 32 characters (got ${sessionSecret.length} characters)`,
      )
    }
  } else if (production) {
    problems.push('SESSION_SECRET is required when NODE_ENV=production (got nothing)')
  }

  function sentinels(raw: string): SentinelAddress[] | undefined {
    const list = raw.split(',').map((entry) => entry.trim())
    const parsed = list.map((entry) => /^([^:\s]+):(\d{1,5})$/.exec(entry))
    const valid = (match: RegExpExecArray | null): match is RegExpExecArray =>
      match !== null && Number(match[2]) <= 65_535
    if (!parsed.every(valid)) {
      problems.push(
        `REDIS_SENTINELS must be a comma-separated list of host:port (got ${JSON.stringify(raw)})`,
      )
      return undefined
    }
    return parsed.filter(valid).map((match) => ({ host: match[1]!, port: Number(match[2]) }))
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
    const token = value(name)
    if (token !== undefined && (token.length < 16 || /\s/.test(token))) {
      problems.push(
        `${name} must be at least 16 characters without whitespace (got ${token.length} characters)`,
      )
    }
  }

  const rawLogFormat = value('LOG_FORMAT') ?? DEFAULTS.logFormat
  let logFormat: Config['logFormat'] = DEFAULTS.logFormat
  if (isOneOf(LOG_FORMATS, rawLogFormat)) logFormat = rawLogFormat
  else {
    problems.push(
      `LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')} (got ${JSON.stringify(rawLogFormat)})`,
    )
  }

  const config: Config = {
    production,
    port,
    host,
    instanceId: value('INSTANCE_ID'),
    version: value('APP_VERSION') ?? '0.0.0-dev',
    redisUrl,
    redisSentinels,
    redisMasterName: value('REDIS_MASTER_NAME') ?? DEFAULTS.redisMasterName,
    redisPassword: value('REDIS_PASSWORD'),
    sessionStore,
    sessionSecret,
    sessionSecretIsDemo: sessionSecret === DEMO_SESSION_SECRET,
    sessionTtlSeconds: integer(
      'SESSION_TTL_SECONDS',
      DEFAULTS.sessionTtlSeconds,
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    sessionPrefix: value('SESSION_PREFIX') ?? DEFAULTS.sessionPrefix,
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
    healthToken: value('HEALTH_TOKEN'),
    metricsToken: value('METRICS_TOKEN'),
    drainDelayMs,
    shutdownTimeoutMs,
    keepAliveTimeoutMs: integer('KEEP_ALIVE_TIMEOUT_MS', DEFAULTS.keepAliveTimeoutMs, 1, 3_600_000),
    trustProxy: value('TRUST_PROXY') ?? DEFAULTS.trustProxy,
    logFormat,
    paths: PATHS,
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return Object.freeze(config)
}

/** A URL as it may appear in a log line: the password replaced by `***`. */
export function redact(raw: string): string {
  try {
    const parsed = new URL(raw)
    if (parsed.password === '') return raw
    parsed.password = '***'
    return parsed.toString()
  } catch {
    return raw.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
  }
}
