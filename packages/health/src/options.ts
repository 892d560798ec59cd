import { InvalidOptionError, shown } from './errors.js'

/**
 * A dependency check: resolve (optionally with JSON-able details to show) to
 * pass, throw or reject to fail. The signal fires when the check's
 * `timeoutMs` passes; a check that ignores it is still reported failed on time.
 */
export interface HealthCheck {
  (signal: AbortSignal): unknown
  /** Releases what the checker holds (a histogram, a timer); `health.close()` calls it. */
  close?: () => void
}

/** A check with its own settings. */
export interface HealthCheckEntry {
  /** The check to run. */
  check: HealthCheck
  /**
   * Whether a failure makes the service unhealthy and not ready. A failing
   * non-critical check only makes `/health` `degraded` (still 200).
   * @default true
   */
  critical?: boolean
  /**
   * Deadline for this check, in milliseconds; overrides the top-level `timeoutMs`.
   * @default the top-level `timeoutMs`
   */
  timeoutMs?: number
}

/** The probes, by the name used in `paths` and in `health.answer()`. */
export type Probe = 'live' | 'ready' | 'health' | 'detailed' | 'startup'

/** A pino-shaped logger; the health core logs check state changes, never per probe hit. */
export interface HealthLogger {
  /** A check recovered, readiness flipped. */
  info(details: object, message: string): void
  /** A check started failing. */
  warn(details: object, message: string): void
  /** Something that should not happen (a bug in a checker's `close`). */
  error(details: object, message: string): void
}

/** Options of `createHealth()`. */
export interface HealthOptions {
  /**
   * The checks by name: a function, or `{ check, critical, timeoutMs }`.
   * All run in parallel on each run.
   * @default {} (no checks: always healthy)
   */
  checks?: Record<string, HealthCheck | HealthCheckEntry>
  /**
   * Longest one check may run before it counts as failed, in milliseconds.
   * The check's AbortSignal fires at the same moment.
   * @default 2000
   */
  timeoutMs?: number
  /**
   * How long a finished run answers later probes, in milliseconds. Concurrent
   * probes always share the run in flight; 0 turns only the reuse off.
   * @default 1000
   */
  cacheMs?: number
  /**
   * Run the checks in the background every `intervalMs` milliseconds and
   * answer probes from the last result at once. 0 runs them on demand.
   * The timer is unref'd and stopped by `health.close()`.
   * @default 0
   */
  intervalMs?: number
  /**
   * `'immediate'`: started at creation. `'manual'`: `/startup` and `/ready`
   * answer 503 until `health.markStarted()`.
   * @default 'immediate'
   */
  startup?: 'immediate' | 'manual'
  /**
   * The service version shown on `/health/detailed`.
   * @default undefined (not shown)
   */
  version?: string
  /**
   * The environment shown on `/health/detailed`.
   * @default process.env.NODE_ENV, or 'development' when unset
   */
  environment?: string
  /**
   * Whether `/health/detailed` is served at all; when false its path is not
   * routed (404) and `health.answer('detailed')` answers 404.
   * @default true
   */
  exposeDetails?: boolean
  /**
   * Bearer token `/health/detailed` requires (`Authorization: Bearer <token>`),
   * at least 16 characters, compared in constant time. Without it the details are open.
   * @default undefined (no token required)
   */
  detailsToken?: string
  /**
   * The path of each probe; every path starts with `/` and no two are equal.
   * @default { live: '/live', ready: '/ready', health: '/health', detailed: '/health/detailed', startup: '/startup' }
   */
  paths?: Partial<Record<Probe, string>>
  /**
   * Where check state changes are logged (a failing check at `warn`, a
   * recovery and `markNotReady` at `info`), with credentials removed.
   * @default a silent logger
   */
  logger?: HealthLogger
}

/** The defaults of every option; the README's options table mirrors this object. */
export const DEFAULTS: {
  readonly timeoutMs: 2000
  readonly cacheMs: 1000
  readonly intervalMs: 0
  readonly startup: 'immediate'
  readonly exposeDetails: true
  readonly paths: Readonly<Record<Probe, string>>
} = Object.freeze({
  timeoutMs: 2000,
  cacheMs: 1000,
  intervalMs: 0,
  startup: 'immediate',
  exposeDetails: true,
  paths: Object.freeze({
    live: '/live',
    ready: '/ready',
    health: '/health',
    detailed: '/health/detailed',
    startup: '/startup',
  }),
})

/** A check with every setting decided. */
export interface ResolvedCheck {
  readonly name: string
  readonly check: HealthCheck
  readonly critical: boolean
  readonly timeoutMs: number
}

/** Every option decided and validated. */
export interface ResolvedOptions {
  readonly checks: readonly ResolvedCheck[]
  readonly cacheMs: number
  readonly intervalMs: number
  readonly startup: 'immediate' | 'manual'
  readonly version: string | undefined
  readonly environment: string
  readonly exposeDetails: boolean
  readonly detailsToken: string | undefined
  readonly paths: Readonly<Record<Probe, string>>
  readonly logger: HealthLogger
}

const KNOWN = new Set([
  'checks',
  'timeoutMs',
  'cacheMs',
  'intervalMs',
  'startup',
  'version',
  'environment',
  'exposeDetails',
  'detailsToken',
  'paths',
  'logger',
])
const PROBES: readonly Probe[] = ['live', 'ready', 'health', 'detailed', 'startup']
// setTimeout clamps anything larger to 1 ms.
const MAX_TIMER_MS = 2_147_483_647

const noop = (): void => {}
const SILENT: HealthLogger = Object.freeze({ info: noop, warn: noop, error: noop })

/** Checks a millisecond option: an integer in range, `min` being 0 or 1. */
export function milliseconds(option: string, value: unknown, min: 0 | 1): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < min ||
    value > MAX_TIMER_MS
  ) {
    const rule = min === 1 ? 'a positive integer' : 'a non-negative integer'
    throw new InvalidOptionError(option, `must be ${rule} of milliseconds`, shown(value))
  }
  return value
}

/** Checks that a checker's client has the method the check calls; `rule` says what was expected. */
export function clientWith<T>(option: string, client: T, method: string, rule: string): T {
  const shaped = client as Record<string, unknown> | null
  if (typeof shaped !== 'object' || shaped === null || typeof shaped[method] !== 'function') {
    throw new InvalidOptionError(option, rule, shown(client))
  }
  return client
}

/** Checks a ratio option: a number in (0, 1]. */
export function ratio(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw new InvalidOptionError(option, 'must be a number above 0 and at most 1', shown(value))
  }
  return value
}

function optionalString(option: string, value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  throw new InvalidOptionError(option, 'must be a string', shown(value))
}

function resolveChecks(checks: unknown, timeoutMs: number): ResolvedCheck[] {
  if (checks === undefined) return []
  if (typeof checks !== 'object' || checks === null || Array.isArray(checks)) {
    throw new InvalidOptionError('checks', 'must be an object of named checks', shown(checks))
  }
  return Object.entries(checks).map(([name, entry]: [string, unknown]) => {
    const option = `checks.${name}`
    if (typeof entry === 'function') {
      return { name, check: entry as HealthCheck, critical: true, timeoutMs }
    }
    if (typeof entry !== 'object' || entry === null) {
      throw new InvalidOptionError(
        option,
        'must be a function or { check, critical, timeoutMs }',
        shown(entry),
      )
    }
    const { check, critical = true, timeoutMs: own } = entry as Record<string, unknown>
    if (typeof check !== 'function') {
      throw new InvalidOptionError(`${option}.check`, 'must be a function', shown(check))
    }
    if (typeof critical !== 'boolean') {
      throw new InvalidOptionError(`${option}.critical`, 'must be a boolean', shown(critical))
    }
    return {
      name,
      check: check as HealthCheck,
      critical,
      timeoutMs: own === undefined ? timeoutMs : milliseconds(`${option}.timeoutMs`, own, 1),
    }
  })
}

function resolvePaths(paths: unknown): Record<Probe, string> {
  if (paths === undefined) return { ...DEFAULTS.paths }
  if (typeof paths !== 'object' || paths === null || Array.isArray(paths)) {
    throw new InvalidOptionError('paths', 'must be an object of probe paths', shown(paths))
  }
  const resolved = { ...DEFAULTS.paths }
  for (const [probe, path] of Object.entries(paths)) {
    if (!PROBES.includes(probe as Probe)) {
      throw new InvalidOptionError(
        `paths.${probe}`,
        `is not a probe (probes: ${PROBES.join(', ')})`,
        shown(path),
      )
    }
    if (typeof path !== 'string' || !/^\/[^?#\s]*$/.test(path)) {
      throw new InvalidOptionError(
        `paths.${probe}`,
        'must be a path starting with `/`, without query or spaces',
        shown(path),
      )
    }
    resolved[probe as Probe] = path
  }
  const seen = new Map<string, Probe>()
  for (const probe of PROBES) {
    const other = seen.get(resolved[probe])
    if (other !== undefined) {
      throw new InvalidOptionError(
        `paths.${probe}`,
        `must differ from \`paths.${other}\``,
        shown(resolved[probe]),
      )
    }
    seen.set(resolved[probe], probe)
  }
  return resolved
}

function resolveLogger(logger: unknown): HealthLogger {
  if (logger === undefined) return SILENT
  const shaped = (typeof logger === 'object' ? logger : null) as Partial<
    Record<keyof HealthLogger, unknown>
  > | null
  if (
    shaped === null ||
    typeof shaped.info !== 'function' ||
    typeof shaped.warn !== 'function' ||
    typeof shaped.error !== 'function'
  ) {
    throw new InvalidOptionError(
      'logger',
      'must have info, warn and error methods (pino-shaped)',
      shown(logger),
    )
  }
  return shaped as HealthLogger
}

/** Validates `createHealth()` options and fills in the defaults; throws `InvalidOptionError`. */
export function resolveOptions(options: HealthOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('options', 'must be an object', shown(options))
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) {
      throw new InvalidOptionError(
        key,
        `is not an option of createHealth (options: ${[...KNOWN].join(', ')})`,
        shown((options as Record<string, unknown>)[key]),
      )
    }
  }
  const timeoutMs = milliseconds('timeoutMs', options.timeoutMs ?? DEFAULTS.timeoutMs, 1)
  const startup = options.startup ?? DEFAULTS.startup
  if (startup !== 'immediate' && startup !== 'manual') {
    throw new InvalidOptionError('startup', "must be 'immediate' or 'manual'", shown(startup))
  }
  const exposeDetails = options.exposeDetails ?? DEFAULTS.exposeDetails
  if (typeof exposeDetails !== 'boolean') {
    throw new InvalidOptionError('exposeDetails', 'must be a boolean', shown(exposeDetails))
  }
  const detailsToken: unknown = options.detailsToken
  if (
    detailsToken !== undefined &&
    (typeof detailsToken !== 'string' || detailsToken.length < 16)
  ) {
    const got =
      typeof detailsToken === 'string' ? `${detailsToken.length} characters` : shown(detailsToken)
    throw new InvalidOptionError('detailsToken', 'must be a string of at least 16 characters', got)
  }
  return {
    checks: resolveChecks(options.checks, timeoutMs),
    cacheMs: milliseconds('cacheMs', options.cacheMs ?? DEFAULTS.cacheMs, 0),
    intervalMs: milliseconds('intervalMs', options.intervalMs ?? DEFAULTS.intervalMs, 0),
    startup,
    version: optionalString('version', options.version),
    environment:
      optionalString('environment', options.environment) ?? process.env.NODE_ENV ?? 'development',
    exposeDetails,
    detailsToken,
    paths: resolvePaths(options.paths),
    logger: resolveLogger(options.logger),
  }
}
