import {
  integer,
  InvalidOptionError,
  milliseconds,
  oneOf,
  optionsObject,
  ratio,
  resolveLogger,
  requestPath,
  shown,
  text,
  type Logger,
  type LoggerOption,
  withMethods,
} from '@uptimekit/internal'

/**
 * How readily a request is shed: `sheddable` first, then `normal`, `critical` last. Probe and
 * metrics paths (`exemptPaths`) are never shed, whatever their priority.
 */
export type OverloadPriority = 'critical' | 'normal' | 'sheddable'

/** The order in which requests waiting for a concurrency slot get one. */
export type QueueOrder = 'fifo' | 'lifo'

/** Options of `createOverload()`. Every option has a default. */
export interface OverloadOptions {
  /**
   * Requests allowed to run at once. `'adaptive'`: a limit learned from response times
   * (Gradient2: it shrinks when the recent average response time rises past 1.5x the long-term
   * average; it grows by probes while every slot is in use, keeping the added slots only if
   * response times do not rise with them). A number: a fixed limit.
   * Synchronous CPU-bound handlers never hold more than one slot; the event-loop signals
   * cover them.
   * @default 'adaptive'
   */
  concurrency?: 'adaptive' | number
  /**
   * p99 of the event-loop delay over the last `windowMs`, in milliseconds, past which a growing
   * share of requests is shed (sheddable first, critical last). `false` turns the signal off.
   * @default 200
   */
  maxEventLoopDelayMs?: number | false
  /**
   * Event-loop utilization (0..1) over the last `sampleIntervalMs` at or past which the loop
   * counts as saturated: requests may then wait only `overloadedQueueWaitMs` for the loop or a
   * slot instead of `maxQueueWaitMs`, so only what the loop cannot serve is shed.
   * `false` turns the signal off.
   * @default 0.98
   */
  maxEventLoopUtilization?: number | false
  /**
   * Share (0..1) of the V8 heap limit (as heapCheck reads it) the heap may use (the lowest reading over the
   * last `windowMs`, so garbage the next collection frees does not count) before a growing
   * share of requests is shed. `false` turns the signal off.
   * @default 0.95
   */
  maxHeapUsedRatio?: number | false
  /**
   * Longest a request may wait, in milliseconds, for a concurrency slot or for the event loop
   * (the work the loop did in its current turn before reaching the request), while the service
   * is not overloaded. Bursts up to this long are absorbed. Critical requests always get this.
   * @default 50
   */
  maxQueueWaitMs?: number
  /**
   * Longest a normal request may wait, in milliseconds, while the service is overloaded (the
   * loop saturated, or the slot queue never empty for a whole `sampleIntervalMs`): the short
   * target of CoDel and of Facebook's adaptive queueing. Sheddable requests get half of the
   * current allowance.
   * @default 5
   */
  overloadedQueueWaitMs?: number
  /**
   * Order in which queued requests of one priority get a free slot. Critical requests are
   * always served before normal ones; sheddable ones never queue.
   * @default 'lifo'
   */
  queueOrder?: QueueOrder
  /**
   * The sliding window of the event-loop delay p99 and the heap reading, in milliseconds.
   * @default 1000
   */
  windowMs?: number
  /**
   * How often the pressure signals are read and the adaptive limit updated, in milliseconds;
   * also the window of the utilization reading.
   * @default 100
   */
  sampleIntervalMs?: number
  /**
   * Paths never shed, not counted and not queued: the probes and `/metrics`. Compared after
   * normalizing (query, trailing slash and case ignored).
   * @default ['/live', '/ready', '/health', '/health/detailed', '/startup', '/metrics']
   */
  exemptPaths?: readonly string[]
  /**
   * The `Retry-After` of a shed answer, in whole seconds.
   * @default 1
   */
  retryAfterSeconds?: number
  /**
   * Where changes between `normal` and `shedding` are logged (never one line per request).
   * @default JSON lines on stderr; `false` for silence
   */
  logger?: LoggerOption
}

/** Every default in one place; the README's options table mirrors this object. */
export const DEFAULTS: {
  readonly concurrency: 'adaptive'
  readonly maxEventLoopDelayMs: 200
  readonly maxEventLoopUtilization: 0.98
  readonly maxHeapUsedRatio: 0.95
  readonly maxQueueWaitMs: 50
  readonly overloadedQueueWaitMs: 5
  readonly queueOrder: 'lifo'
  readonly windowMs: 1000
  readonly sampleIntervalMs: 100
  readonly exemptPaths: readonly string[]
  readonly retryAfterSeconds: 1
} = Object.freeze({
  concurrency: 'adaptive',
  maxEventLoopDelayMs: 200,
  maxEventLoopUtilization: 0.98,
  maxHeapUsedRatio: 0.95,
  maxQueueWaitMs: 50,
  overloadedQueueWaitMs: 5,
  queueOrder: 'lifo',
  windowMs: 1000,
  sampleIntervalMs: 100,
  exemptPaths: Object.freeze([
    '/live',
    '/ready',
    '/health',
    '/health/detailed',
    '/startup',
    '/metrics',
  ]),
  retryAfterSeconds: 1,
})

/** Options after defaults and checks; a signal turned off is `Infinity`. */
export interface ResolvedOptions {
  readonly concurrency: 'adaptive' | number
  readonly maxEventLoopDelayMs: number
  readonly maxEventLoopUtilization: number
  readonly maxHeapUsedRatio: number
  readonly maxQueueWaitMs: number
  readonly overloadedQueueWaitMs: number
  readonly queueOrder: QueueOrder
  readonly windowMs: number
  readonly sampleIntervalMs: number
  readonly exemptPaths: ReadonlySet<string>
  readonly retryAfterSeconds: number
  readonly logger: Logger
}

const KEYS = [
  'concurrency',
  'maxEventLoopDelayMs',
  'maxEventLoopUtilization',
  'maxHeapUsedRatio',
  'maxQueueWaitMs',
  'overloadedQueueWaitMs',
  'queueOrder',
  'windowMs',
  'sampleIntervalMs',
  'exemptPaths',
  'retryAfterSeconds',
  'logger',
]

/** The priorities, for checking route options. */
export const PRIORITIES: readonly OverloadPriority[] = ['critical', 'normal', 'sheddable']

/** Checks a priority given to a route or a guard. */
export function priority(option: string, value: unknown): OverloadPriority {
  return oneOf(option, value, PRIORITIES)
}

function signal(value: unknown, fallback: number, check: (value: unknown) => number): number {
  if (value === false) return Infinity
  return check(value ?? fallback)
}

function paths(value: unknown): ReadonlySet<string> {
  if (value === undefined) return new Set(DEFAULTS.exemptPaths)
  if (!Array.isArray(value)) {
    throw new InvalidOptionError('exemptPaths', 'must be an array of paths', shown(value))
  }
  return new Set(
    value.map((path: unknown, i) => {
      const given = text(`exemptPaths[${i}]`, path)
      if (!given.startsWith('/')) {
        throw new InvalidOptionError(`exemptPaths[${i}]`, 'must start with /', shown(given))
      }
      return requestPath(given)
    }),
  )
}

/** Applies defaults and checks every option; throws `InvalidOptionError` naming the first bad one. */
export function resolveOptions(input: unknown): ResolvedOptions {
  const o = optionsObject('createOverload', input, KEYS)
  const concurrency =
    o.concurrency === undefined || o.concurrency === 'adaptive'
      ? 'adaptive'
      : typeof o.concurrency === 'number'
        ? integer('concurrency', o.concurrency, { min: 1 })
        : oneOf('concurrency', o.concurrency, ['adaptive'])
  const maxQueueWaitMs = milliseconds('maxQueueWaitMs', o.maxQueueWaitMs ?? DEFAULTS.maxQueueWaitMs)
  const overloadedQueueWaitMs = milliseconds(
    'overloadedQueueWaitMs',
    o.overloadedQueueWaitMs ?? DEFAULTS.overloadedQueueWaitMs,
  )
  if (overloadedQueueWaitMs > maxQueueWaitMs) {
    throw new InvalidOptionError(
      'overloadedQueueWaitMs',
      `must be at most \`maxQueueWaitMs\` (${maxQueueWaitMs})`,
      shown(overloadedQueueWaitMs),
    )
  }
  const sampleIntervalMs = milliseconds(
    'sampleIntervalMs',
    o.sampleIntervalMs ?? DEFAULTS.sampleIntervalMs,
  )
  const windowMs = milliseconds('windowMs', o.windowMs ?? DEFAULTS.windowMs)
  if (windowMs < 2 * sampleIntervalMs) {
    throw new InvalidOptionError(
      'windowMs',
      `must be at least twice \`sampleIntervalMs\` (${2 * sampleIntervalMs})`,
      shown(windowMs),
    )
  }
  return {
    concurrency,
    maxEventLoopDelayMs: signal(o.maxEventLoopDelayMs, DEFAULTS.maxEventLoopDelayMs, (v) =>
      milliseconds('maxEventLoopDelayMs', v),
    ),
    maxEventLoopUtilization: signal(
      o.maxEventLoopUtilization,
      DEFAULTS.maxEventLoopUtilization,
      (v) => ratio('maxEventLoopUtilization', v),
    ),
    maxHeapUsedRatio: signal(o.maxHeapUsedRatio, DEFAULTS.maxHeapUsedRatio, (v) =>
      ratio('maxHeapUsedRatio', v),
    ),
    maxQueueWaitMs,
    overloadedQueueWaitMs,
    queueOrder: oneOf('queueOrder', o.queueOrder ?? DEFAULTS.queueOrder, ['fifo', 'lifo'] as const),
    windowMs,
    sampleIntervalMs,
    exemptPaths: paths(o.exemptPaths),
    retryAfterSeconds: integer(
      'retryAfterSeconds',
      o.retryAfterSeconds ?? DEFAULTS.retryAfterSeconds,
      { min: 0 },
    ),
    logger: resolveLogger('logger', o.logger, '@uptimekit/overload'),
  }
}

/** A guard's `priority` option: one priority, or a function of the request. */
export type PriorityOption<TRequest> = OverloadPriority | ((request: TRequest) => OverloadPriority)

/**
 * Checks a guard's `priority` option and returns how to read it per request. A function that
 * returns something else than a priority at run time gets `normal` for that request.
 */
export function priorityOption<TRequest>(
  option: string,
  value: unknown,
): (request: TRequest) => OverloadPriority | undefined {
  if (value === undefined) return () => undefined
  if (typeof value === 'function') return value as (request: TRequest) => OverloadPriority
  const fixed = priority(option, value)
  return () => fixed
}

/** Checks that `value` is what `createOverload()` returns. */
export function overloadOption<T>(option: string, value: unknown): T {
  return withMethods<T>(option, value, ['admit', 'snapshot'], 'must be created by createOverload()')
}
