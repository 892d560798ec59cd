import type { Dispatcher } from 'undici'
import type { InFlightNode } from '../src/in-flight.js'
import { createPicker } from '../src/strategies.js'
import { Upstream } from '../src/upstream.js'

/** One modelled upstream: `serviceMs` per request, at most `concurrency` at once, the rest queue. */
export interface ModelUpstream {
  serviceMs: number
  concurrency: number
  /** Answers 503 at once instead. */
  fails?: boolean
  /** From this time on it answers nothing (a hung process that still accepts connections). */
  hangsAfterMs?: number
}

/** A model run: open-loop arrivals at `rate` per second for `seconds`. */
export interface ModelRun {
  upstreams: ModelUpstream[]
  rate: number
  seconds: number
  decayMs: number
  failurePenaltyMs: number
  /** The client's event loop stalls for `durationMs` every `everyMs` (a loaded machine). */
  stalls?: { everyMs: number; durationMs: number }
}

/**
 * What a run measured: latency from each request's scheduled send (of the requests answered),
 * each upstream's share.
 */
export interface ModelResult {
  p50: number
  p99: number
  /** Attempts each upstream got (a 503 retried elsewhere counts on both). */
  attempts: number[]
}

interface Attempt extends InFlightNode {
  scheduledMs: number
  upstream: number
  /** The upstream that answered 503 first, when this is the retry. */
  retried: boolean
}

interface Event {
  atMs: number
  seq: number
  /** A request is due to be sent (scheduled time in `atMs`... client time). */
  arrival?: number
  scheduledMs?: number
  /** The upstream finished serving an attempt (server time). */
  done?: Attempt
  /** The client reads an answer (client time). */
  read?: Attempt
}

/** A binary heap of events ordered by time, then by insertion. */
class Events {
  private readonly heap: Event[] = []
  private seq = 0
  get size(): number {
    return this.heap.length
  }
  push(event: Omit<Event, 'seq'>): void {
    const h = this.heap
    h.push({ ...event, seq: this.seq++ })
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(h[i]!, h[parent]!)) break
      ;[h[i], h[parent]] = [h[parent]!, h[i]!]
      i = parent
    }
  }
  pop(): Event {
    const h = this.heap
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && before(h[l]!, h[m]!)) m = l
        if (r < h.length && before(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

const before = (a: Event, b: Event): boolean =>
  a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq)

/**
 * A deterministic model of the tail-latency benchmark: the real least-response-time picker and
 * upstream state, an injected clock instead of time, capacity-limited upstreams as FIFO queues,
 * and client stalls that delay every answer the client reads (so they inflate every upstream's
 * samples at once, as a busy event loop does). Zero network time.
 */
export function runModel(run: ModelRun): ModelResult {
  const pick = createPicker('least-response-time', {
    scan: 'two-choices',
    slowStartMs: 0,
    hashLoadFactor: 1.25,
    failurePenaltyMs: run.failurePenaltyMs,
  })
  const upstreams = run.upstreams.map(
    (_spec, i) =>
      new Upstream({
        url: `http://10.0.0.${i + 1}:80`,
        name: `http://10.0.0.${i + 1}:80`,
        weight: 1,
        backup: false,
        breaker: undefined,
        pool: undefined as unknown as Dispatcher,
        hostHeader: undefined,
        decayMs: run.decayMs,
        upSinceMs: -Infinity,
      }),
  )
  const running = run.upstreams.map(() => 0)
  const queues: Attempt[][] = run.upstreams.map(() => [])
  const attempts = run.upstreams.map(() => 0)
  const latencies: number[] = []
  const events = new Events()
  const request = { hashKey: () => undefined }
  // The time the client handles an event due at `atMs`: after the stall it falls in, if any.
  // After a stall Node runs timers before it polls sockets, so the requests due during the stall
  // are sent before the answers that arrived in it are read (`late`).
  const clientTime = (atMs: number, late: number): number => {
    const stalls = run.stalls
    if (stalls === undefined) return atMs
    const into = atMs % stalls.everyMs
    return into < stalls.durationMs ? atMs - into + stalls.durationMs + late : atMs
  }
  const serve = (index: number, attempt: Attempt, atMs: number): void => {
    const spec = run.upstreams[index]!
    running[index]!++
    if (atMs >= (spec.hangsAfterMs ?? Infinity)) return
    events.push({ atMs: atMs + (spec.fails === true ? 0 : spec.serviceMs), done: attempt })
  }
  const send = (attempt: Attempt, nowMs: number, exclude?: Upstream): void => {
    const list = exclude === undefined ? upstreams : upstreams.filter((u) => u !== exclude)
    const chosen = pick(list, request, nowMs)
    const index = upstreams.indexOf(chosen)
    attempt.upstream = index
    attempt.startMs = nowMs
    chosen.inFlight.add(attempt)
    attempts[index]!++
    if (running[index]! < run.upstreams[index]!.concurrency) serve(index, attempt, nowMs)
    else queues[index]!.push(attempt)
  }
  const total = Math.round(run.rate * run.seconds)
  for (let i = 0; i < total; i++) {
    const scheduledMs = (i * 1000) / run.rate
    events.push({ atMs: clientTime(scheduledMs, 0), scheduledMs, arrival: i })
  }
  while (events.size > 0) {
    const event = events.pop()
    if (event.arrival !== undefined) {
      const attempt: Attempt = {
        scheduledMs: event.scheduledMs!,
        startMs: 0,
        upstream: -1,
        retried: false,
        prevInFlight: undefined,
        nextInFlight: undefined,
      }
      send(attempt, event.atMs)
      continue
    }
    if (event.done !== undefined) {
      const index = event.done.upstream
      running[index]!--
      const queued = queues[index]!.shift()
      if (queued !== undefined) serve(index, queued, event.atMs)
      // The client reads the answer when its event loop runs again.
      events.push({ atMs: clientTime(event.atMs, 0.001), read: event.done })
      continue
    }
    const attempt = event.read!
    const index = attempt.upstream
    const now = event.atMs
    const upstream = upstreams[index]!
    upstream.inFlight.remove(attempt)
    const failed = run.upstreams[index]!.fails === true
    const elapsed = now - attempt.startMs
    upstream.ewma.observe(failed ? Math.max(elapsed, run.failurePenaltyMs) : elapsed, now, failed)
    if (failed && !attempt.retried) {
      attempt.retried = true
      send(attempt, now, upstream)
      continue
    }
    latencies.push(now - attempt.scheduledMs)
  }
  latencies.sort((a, b) => a - b)
  const at = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!
  return { p50: at(0.5), p99: at(0.99), attempts }
}
