import { errorText, monotonicMs, requestPath, type HttpAnswer } from '@uptimekit/internal'
import { fixedLimit, gradientLimit, type AdaptiveLimit } from './gradient-limit.js'
import { loopTurn } from './loop-turn.js'
import { resolveOptions, type OverloadOptions, type OverloadPriority } from './options.js'
import { pressureMonitor, type PressureReadings } from './pressure.js'
import { SHED_REASONS, shedAnswers, type ShedReason } from './shed-answer.js'
import { SlotQueue, type Waiter } from './slot-queue.js'

/** `normal` while nothing is shed; `shedding` from the first shed request until a whole window sheds none. */
export type OverloadState = 'normal' | 'shedding'

/** What the guard knows of a request before its body is read. */
export interface OverloadRequest {
  /** The request target as received (`req.originalUrl`, `request.url`); compared with `exemptPaths`. */
  readonly url: string
  /**
   * How readily it is shed.
   * @default 'normal'
   */
  readonly priority?: OverloadPriority | undefined
}

/** The part of a node:http `ServerResponse` the core uses to learn when a request is done. */
export interface ResponseLike {
  /** `close` fires once the response is sent or the connection is gone. */
  once(event: 'close', listener: () => void): unknown
  /** True once the response was sent in full (so the response time is a real sample). */
  readonly writableFinished: boolean
}

/** The core's decision for one request. */
export type Admission =
  | { readonly admitted: true }
  | {
      readonly admitted: false
      /** Why it was shed, or `client_closed` when the client left while it waited. */
      readonly reason: ShedReason | 'client_closed'
      /** The answer to write: 503 with `Retry-After` and the `UPTIMEKIT_OVERLOADED` body. */
      readonly answer: HttpAnswer
    }

/** The limit, the queue and the pressure readings at one moment. */
export interface OverloadSnapshot extends PressureReadings {
  /** `normal` or `shedding`. */
  readonly state: OverloadState
  /**
   * Whether the loop is saturated (utilization at `maxEventLoopUtilization`) or the slot queue
   * stood for a whole sample interval: requests then wait only `overloadedQueueWaitMs`.
   */
  readonly overloaded: boolean
  /** The concurrency limit now. */
  readonly limit: number
  /** Requests running now (admitted and not yet answered). */
  readonly inFlight: number
  /** Requests waiting for a slot now. */
  readonly queued: number
  /**
   * How hard the delay and heap signals shed (0..1): at level L a share min(1, 3L) of sheddable
   * requests and min(1, max(0, 3L - 1)) of normal ones is shed, and while the heap is over its
   * limit max(0, 3L - 2) of critical ones.
   */
  readonly shedLevel: number
  /** Requests admitted since creation (exempt paths not counted). */
  readonly admitted: number
  /** Requests shed since creation, by reason. */
  readonly shed: Readonly<Record<ShedReason, number>>
  /** Requests whose client left while they waited for a slot. */
  readonly abandoned: number
}

/** A change between `normal` and `shedding`. */
export interface OverloadChange {
  /** The state before. */
  readonly from: OverloadState
  /** The state now. */
  readonly to: OverloadState
  /** The readings at the change. */
  readonly snapshot: OverloadSnapshot
}

/** What `healthCheck()` resolves with while nothing is shed. */
export interface OverloadHealthDetails {
  /** Always `normal` (a shedding service fails the check). */
  readonly state: OverloadState
  /** The concurrency limit now. */
  readonly limit: number
  /** Requests running now. */
  readonly inFlight: number
  /** Requests waiting now. */
  readonly queued: number
}

/** A non-critical check for `createHealth({ checks })`: fails (so `degraded`) while shedding. */
export interface OverloadHealthCheck {
  /** Resolves with the limit and counts; rejects while requests are being shed. */
  readonly check: (signal?: AbortSignal) => Promise<OverloadHealthDetails>
  /** Shedding is the service protecting itself: it makes `/health` degraded, never not ready. */
  readonly critical: false
}

/** A load shedder; one per process, shared by every guard. */
export interface Overload {
  /**
   * Decides on one request: admit it now, make it wait for a slot (a promise), or shed it.
   * Once admitted, its slot is freed when `response` closes.
   */
  admit(request: OverloadRequest, response: ResponseLike): Admission | Promise<Admission>
  /** `normal` or `shedding`. */
  readonly state: OverloadState
  /** The limit, the queue, the readings and the counts now. */
  snapshot(): OverloadSnapshot
  /** A non-critical health check: `checks: { overload: overload.healthCheck() }`. */
  healthCheck(): OverloadHealthCheck
  /** Subscribes to changes between `normal` and `shedding`; returns the unsubscribe function. */
  onChange(listener: (change: OverloadChange) => void): () => void
  /** Stops every timer and monitor, lets queued requests run and admits everything from then on. */
  close(): void
}

const ADMITTED: Admission = Object.freeze({ admitted: true })
// Added to the shed level per sample while the delay or heap signal is over its limit; the
// level halves per sample once both are under, so recovery is faster than escalation.
const LEVEL_STEP = 0.05
// Below this the halving level counts as zero.
const LEVEL_FLOOR = 0.01

/**
 * The share of requests of `priority` shed at `level`: sheddable ones first, then normal ones.
 * Critical requests are shed by the level only for the heap, whose exhaustion ends the process;
 * a slow loop sheds them only once they waited past `maxQueueWaitMs`.
 */
function levelShare(priority: OverloadPriority, level: number, reason: ShedReason): number {
  if (priority === 'critical' && reason !== 'heap') return 0
  const offset = priority === 'sheddable' ? 0 : priority === 'normal' ? 1 : 2
  return Math.min(1, Math.max(0, 3 * level - offset))
}

/**
 * Creates a load shedder. It sheds what the service cannot serve in time and nothing else:
 * a request that already waited longer than its priority allows (for the event loop or for a
 * concurrency slot) is answered 503 at once; requests past the adaptive (or fixed) concurrency
 * limit wait a short while for a slot; and while the event-loop delay or the heap is over its
 * limit, a growing share of requests is shed, sheddable ones first, critical ones last.
 * Probe and metrics paths are never shed.
 *
 * @example
 * ```ts
 * const overload = createOverload({ concurrency: 'adaptive', maxQueueWaitMs: 50 })
 * app.use(overloadGuard(overload))                  // Express
 * await app.register(overloadPlugin, { overload })  // Fastify
 * ```
 */
export function createOverload(options: OverloadOptions = {}): Overload {
  return overloadWithClock(options, monotonicMs)
}

/**
 * `createOverload` reading time from `now` (milliseconds, monotonic): the loop-turn waits, the
 * response times and the shedding window all come from it, so tests can set each wait exactly
 * instead of spinning the CPU and hoping the machine is idle.
 */
export function overloadWithClock(options: OverloadOptions, now: () => number): Overload {
  const o = resolveOptions(options)
  const limiter: AdaptiveLimit =
    o.concurrency === 'adaptive' ? gradientLimit() : fixedLimit(o.concurrency)
  const answers = shedAnswers(o.retryAfterSeconds)
  const sheds = {} as Record<ShedReason, Admission>
  for (const reason of SHED_REASONS) {
    sheds[reason] = Object.freeze({ admitted: false, reason, answer: answers[reason] })
  }
  const gone: Admission = Object.freeze({
    admitted: false,
    reason: 'client_closed',
    answer: answers.queue_timeout,
  })
  const shedCounts = Object.fromEntries(SHED_REASONS.map((r) => [r, 0])) as Record<
    ShedReason,
    number
  >
  const queue = new SlotQueue(o.queueOrder)
  const turn = loopTurn(now)
  const pressure = pressureMonitor(o.windowMs, o.sampleIntervalMs)
  const listeners = new Set<(change: OverloadChange) => void>()
  let readings: PressureReadings = {
    eventLoopDelayMs: 0,
    eventLoopUtilization: 0,
    heapUsedRatio: 0,
  }
  let state: OverloadState = 'normal'
  let overloaded = false
  let level = 0
  let levelReason: ShedReason = 'event_loop_delay'
  let inFlight = 0
  let admitted = 0
  let abandoned = 0
  let lastShedAt = 0
  let closed = false

  const snapshot = (): OverloadSnapshot => ({
    state,
    overloaded,
    limit: limiter.limit,
    inFlight,
    queued: queue.size,
    shedLevel: level,
    admitted,
    shed: { ...shedCounts },
    abandoned,
    ...readings,
  })

  const moveTo = (to: OverloadState): void => {
    const from = state
    state = to
    const change: OverloadChange = { from, to, snapshot: snapshot() }
    const { shed } = change.snapshot
    if (to === 'shedding') o.logger.warn({ shed, ...readings }, 'overloaded: shedding requests')
    else o.logger.info({ shed, ...readings }, 'load back to normal: nothing shed for a window')
    for (const listener of listeners) {
      try {
        listener(change)
      } catch (err) {
        o.logger.error({ error: errorText(err) }, 'an onChange listener threw')
      }
    }
  }

  const shed = (reason: ShedReason): Admission => {
    shedCounts[reason]++
    lastShedAt = now()
    if (state === 'normal') moveTo('shedding')
    return sheds[reason]
  }

  const run = (response: ResponseLike): void => {
    inFlight++
    admitted++
    const startedAt = now()
    const busy = inFlight
    response.once('close', () => {
      inFlight--
      if (response.writableFinished) limiter.sample(now() - startedAt, busy)
      grantSlots()
    })
  }

  const grantSlots = (): void => {
    while (inFlight < limiter.limit || closed) {
      const next = queue.take()
      if (next === undefined) return
      next.grant()
    }
  }

  const wait = (response: ResponseLike, critical: boolean, remainingMs: number) =>
    new Promise<Admission>((resolve) => {
      const waiter: Waiter = {
        critical,
        grant: () => {
          run(response)
          resolve(ADMITTED)
        },
        expire: (why) => {
          if (why === 'client_closed') {
            abandoned++
            resolve(gone)
          } else resolve(shed(why))
        },
        timer: undefined,
      }
      // As many may wait as may run: past that, few of them would get a slot in time.
      if (!queue.add(waiter, Math.max(1, limiter.limit))) {
        resolve(shed('concurrency'))
        return
      }
      waiter.timer = setTimeout(
        () => {
          if (queue.remove(waiter)) waiter.expire('queue_timeout')
        },
        Math.max(1, Math.ceil(remainingMs)),
      )
      response.once('close', () => {
        if (queue.remove(waiter)) waiter.expire('client_closed')
      })
    })

  const allowanceMs = (priority: OverloadPriority): number => {
    if (priority === 'critical') return o.maxQueueWaitMs
    const normal = overloaded ? o.overloadedQueueWaitMs : o.maxQueueWaitMs
    return priority === 'normal' ? normal : normal / 2
  }

  const tick = (): void => {
    readings = pressure.sample()
    overloaded = readings.eventLoopUtilization >= o.maxEventLoopUtilization || queue.standing()
    const overHeap = readings.heapUsedRatio > o.maxHeapUsedRatio
    if (overHeap || readings.eventLoopDelayMs > o.maxEventLoopDelayMs) {
      level = Math.min(1, level + LEVEL_STEP)
      levelReason = overHeap ? 'heap' : 'event_loop_delay'
    } else {
      level = level / 2 < LEVEL_FLOOR ? 0 : level / 2
    }
    limiter.update()
    grantSlots()
    if (state === 'shedding' && level === 0 && now() - lastShedAt >= o.windowMs) {
      moveTo('normal')
    }
  }
  const timer = setInterval(tick, o.sampleIntervalMs)
  timer.unref()

  return {
    admit(request, response) {
      if (closed) return ADMITTED
      if (o.exemptPaths.size > 0 && o.exemptPaths.has(requestPath(request.url))) return ADMITTED
      // Anything but a known priority (a priority function's bug) counts as normal.
      const given = request.priority
      const priority = given === 'critical' || given === 'sheddable' ? given : 'normal'
      const waitedMs = turn.busyMs(now())
      if (level > 0 && Math.random() < levelShare(priority, level, levelReason)) {
        return shed(levelReason)
      }
      const allowance = allowanceMs(priority)
      if (waitedMs > allowance) return shed('event_loop_backlog')
      if (inFlight < limiter.limit) {
        run(response)
        return ADMITTED
      }
      if (priority === 'sheddable') return shed('concurrency')
      return wait(response, priority === 'critical', allowance - waitedMs)
    },
    get state() {
      return state
    },
    snapshot,
    healthCheck() {
      return {
        critical: false,
        check: () => {
          if (state === 'shedding') {
            const counts = SHED_REASONS.filter((r) => shedCounts[r] > 0)
              .map((r) => `${r} ${shedCounts[r]}`)
              .join(', ')
            return Promise.reject(new Error(`shedding requests (shed so far: ${counts})`))
          }
          return Promise.resolve({ state, limit: limiter.limit, inFlight, queued: queue.size })
        },
      }
    },
    onChange(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    close() {
      if (closed) return
      closed = true
      clearInterval(timer)
      pressure.close()
      turn.close()
      grantSlots()
    },
  }
}
