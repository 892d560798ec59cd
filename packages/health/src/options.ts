import {
  bearerMatcher,
  bool,
  func,
  milliseconds,
  oneOf,
  optional,
  optionsObject,
  resolveLogger,
  text,
  type Logger,
  type LoggerOption,
} from '@uptimekit/internal'
import { InvalidOptionError, shown } from './errors.js'

/**
 * What a check is, for the IETF format's `componentType`: `datastore` (a database, a cache),
 * `system` (this process or host: heap, disk, event loop) or `component` (anything else: an
 * upstream service, a custom check).
 */
export type ComponentType = 'component' | 'datastore' | 'system'

/** A reading a check reports, shown as IETF `observedValue` / `observedUnit` under `<name>:<measurement>`. */
export interface Observation {
  /** What was measured, e.g. `utilization`, `delay`. */
  readonly measurement: string
  /** The reading. */
  readonly value: number
  /** Its unit, e.g. `percent`, `ms`. */
  readonly unit: string
}

/**
 * A dependency check: resolve (optionally with JSON-able details to show) to
 * pass, throw or reject to fail. The signal fires when the check's
 * `timeoutMs` passes; a check that ignores it is still reported failed on time.
 */
export interface HealthCheck {
  (signal: AbortSignal): unknown
  /** Releases what the checker holds (a histogram, a timer); `health.close()` calls it. */
  close?: () => void
  /**
   * What the check is, for the IETF `componentType`.
   * @default 'component'
   */
  componentType?: ComponentType
  /**
   * The reading to report from the check's details (a pass's value, a `CheckFailedError`'s
   * `details`); without it the IETF format reports the check's response time in ms.
   */
  observe?: (details: unknown) => Observation | undefined
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
  /**
   * What the check is, for the IETF `componentType`.
   * @default the check's own `componentType`, else 'component'
   */
  componentType?: ComponentType
}

/** The probes, by the name used in `paths` and in `health.answer()`. */
export type Probe = 'live' | 'ready' | 'health' | 'detailed' | 'startup'

/** A pino-shaped logger; the health core logs check state changes, never per probe hit. */
export type HealthLogger = Logger

/** Options of `createHealth()`. */
export interface HealthOptions {
  /**
   * The checks by name: a function, or `{ check, critical, timeoutMs, componentType }`.
   * All run in parallel on each run.
   * @default {} (no checks: always healthy)
   */
  checks?: Record<string, HealthCheck | HealthCheckEntry>
  /**
   * Longest one check may run before it counts as failed, in milliseconds.
   * The check's AbortSignal fires at the same moment. Below one second, so a probe with a hung
   * dependency still answers 503 within Kubernetes' default probe `timeoutSeconds: 1`.
   * @default 800
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
   * routed and `health.answer('detailed')` answers 404.
   * @default true
   */
  exposeDetails?: boolean
  /**
   * Bearer token `/health/detailed` requires (`Authorization: Bearer <token>`): at least 16
   * characters, no whitespace, compared in constant time. Without it the details are open.
   * @default undefined (no token required)
   */
  token?: string
  /**
   * The path of each probe; every path starts with `/` and no two are equal.
   * @default { live: '/live', ready: '/ready', health: '/health', detailed: '/health/detailed', startup: '/startup' }
   */
  paths?: Partial<Record<Probe, string>>
  /**
   * Where check state changes are logged (a failing check at `warn`, a recovery and
   * `markNotReady` at `info`), with credentials removed; `false` for silence.
   * @default one JSON line per event on stderr
   */
  logger?: LoggerOption
}

/** The defaults of every option; the README's options table mirrors this object. */
export const DEFAULTS: {
  readonly timeoutMs: 800
  readonly cacheMs: 1000
  readonly intervalMs: 0
  readonly startup: 'immediate'
  readonly exposeDetails: true
  readonly paths: Readonly<Record<Probe, string>>
} = Object.freeze({
  timeoutMs: 800,
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
  readonly componentType: ComponentType
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
  /** Matches the `Authorization` header against `token`; undefined when no token is required. */
  readonly authorized: ((authorization: string | undefined) => boolean) | undefined
  readonly paths: Readonly<Record<Probe, string>>
  readonly logger: Logger
}

const KNOWN = [
  'checks',
  'timeoutMs',
  'cacheMs',
  'intervalMs',
  'startup',
  'version',
  'environment',
  'exposeDetails',
  'token',
  'paths',
  'logger',
] as const
const ENTRY_KEYS = ['check', 'critical', 'timeoutMs', 'componentType'] as const
const COMPONENT_TYPES: readonly ComponentType[] = ['component', 'datastore', 'system']
const PROBES: readonly Probe[] = ['live', 'ready', 'health', 'detailed', 'startup']

function resolveCheck(name: string, entry: unknown, timeoutMs: number): ResolvedCheck {
  const option = `checks.${name}`
  if (typeof entry === 'function') {
    const check = entry as HealthCheck
    const componentType = optional(check.componentType, (value) =>
      oneOf(`${option}.componentType`, value, COMPONENT_TYPES),
    )
    return { name, check, critical: true, timeoutMs, componentType: componentType ?? 'component' }
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new InvalidOptionError(
      option,
      'must be a function or { check, critical, timeoutMs, componentType }',
      shown(entry),
    )
  }
  const given = optionsObject(option, entry, ENTRY_KEYS, `${option}.`)
  const check = func<HealthCheck>(`${option}.check`, given.check)
  const componentType = given.componentType ?? check.componentType ?? 'component'
  return {
    name,
    check,
    critical: bool(`${option}.critical`, given.critical ?? true),
    timeoutMs:
      optional(given.timeoutMs, (v) => milliseconds(`${option}.timeoutMs`, v)) ?? timeoutMs,
    componentType: oneOf(`${option}.componentType`, componentType, COMPONENT_TYPES),
  }
}

function resolveChecks(checks: unknown, timeoutMs: number): ResolvedCheck[] {
  if (checks === undefined) return []
  if (typeof checks !== 'object' || checks === null || Array.isArray(checks)) {
    throw new InvalidOptionError('checks', 'must be an object of named checks', shown(checks))
  }
  return Object.entries(checks).map(([name, entry]: [string, unknown]) =>
    resolveCheck(name, entry, timeoutMs),
  )
}

function resolvePaths(paths: unknown): Record<Probe, string> {
  const given = optionsObject('paths', paths, PROBES, 'paths.')
  const resolved = { ...DEFAULTS.paths }
  for (const [probe, path] of Object.entries(given)) {
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

/** Validates `createHealth()` options and fills in the defaults; throws `InvalidOptionError`. */
export function resolveOptions(options: unknown): ResolvedOptions {
  const given = optionsObject('createHealth', options, KNOWN)
  const timeoutMs = milliseconds('timeoutMs', given.timeoutMs ?? DEFAULTS.timeoutMs)
  return {
    checks: resolveChecks(given.checks, timeoutMs),
    cacheMs: milliseconds('cacheMs', given.cacheMs ?? DEFAULTS.cacheMs, 0),
    intervalMs: milliseconds('intervalMs', given.intervalMs ?? DEFAULTS.intervalMs, 0),
    startup: oneOf('startup', given.startup ?? DEFAULTS.startup, ['immediate', 'manual'] as const),
    version: optional(given.version, (v) => text('version', v, true)),
    environment:
      optional(given.environment, (v) => text('environment', v, true)) ??
      process.env.NODE_ENV ??
      'development',
    exposeDetails: bool('exposeDetails', given.exposeDetails ?? DEFAULTS.exposeDetails),
    authorized: optional(given.token, (token) => bearerMatcher('token', token)),
    paths: resolvePaths(given.paths),
    logger: resolveLogger('logger', given.logger, '@uptimekit/health'),
  }
}
