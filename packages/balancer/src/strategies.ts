import type { Strategy } from './options.js'
import { hashString, type Upstream } from './upstream.js'

/** What a picker may ask of the request: its hash key. */
export interface KeySource {
  /** The hash key; computed only by the hash strategies (reading headers costs more than a pick). */
  hashKey(): string | undefined
}

/** Chooses one upstream of a non-empty list. */
export type Picker = (list: readonly Upstream[], request: KeySource, nowMs: number) => Upstream

/** What the strategies need from the options. */
export interface PickerSettings {
  scan: 'two-choices' | 'all'
  slowStartMs: number
  hashLoadFactor: number
  failurePenaltyMs: number
}

// Added to every response time, so an average decayed to 0 still orders by (active + 1).
const FLOOR_MS = 0.001

/** murmur3's 32-bit finalizer: spreads the bits of a combined key and upstream seed. */
function mix(value: number): number {
  let h = value
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

function weightOf(upstream: Upstream, nowMs: number, slowStartMs: number): number {
  return upstream.weight * upstream.ramp(nowMs, slowStartMs)
}

function weightedRandom(list: readonly Upstream[], nowMs: number, slowStartMs: number): Upstream {
  let total = 0
  for (const upstream of list) total += weightOf(upstream, nowMs, slowStartMs)
  let r = Math.random() * total
  for (const upstream of list) {
    r -= weightOf(upstream, nowMs, slowStartMs)
    if (r < 0) return upstream
  }
  return list[list.length - 1]!
}

/** The lower-scored of two upstreams picked at random, or the lowest of all (`scan: 'all'`). */
function leastBy(
  list: readonly Upstream[],
  score: (upstream: Upstream) => number,
  scan: 'two-choices' | 'all',
): Upstream {
  const n = list.length
  if (n === 1) return list[0]!
  const i = Math.floor(Math.random() * n)
  if (scan === 'two-choices') {
    let j = Math.floor(Math.random() * (n - 1))
    if (j >= i) j++
    const a = list[i]!
    const b = list[j]!
    return score(b) < score(a) ? b : a
  }
  // A random start, so ties do not all go to the first upstream.
  let best = list[i]!
  let bestScore = score(best)
  for (let k = 1; k < n; k++) {
    const candidate = list[(i + k) % n]!
    const s = score(candidate)
    if (s < bestScore) {
      best = candidate
      bestScore = s
    }
  }
  return best
}

/**
 * Weighted rendezvous hashing (highest random weight) with bounded load: every upstream scores
 * the key, the best score wins, so removing one of N upstreams moves only the keys it held
 * (about 1/N). An upstream whose in-flight count is over `factor` times the average is passed
 * over for the key's next choice, so one hot key cannot overload its upstream.
 */
function rendezvous(list: readonly Upstream[], key: string, factor: number): Upstream {
  const keyHash = hashString(key)
  let inFlight = 0
  for (const upstream of list) inFlight += upstream.active
  const cap = Math.ceil(((inFlight + 1) / list.length) * factor)
  let best: Upstream | undefined
  let bestScore = -Infinity
  let any: Upstream = list[0]!
  let anyScore = -Infinity
  for (const upstream of list) {
    const u = (mix(keyHash ^ Math.imul(upstream.seed, 0x9e3779b1)) + 0.5) / 4294967296
    const score = -upstream.weight / Math.log(u)
    if (score > anyScore) {
      any = upstream
      anyScore = score
    }
    if (upstream.active + 1 <= cap && score > bestScore) {
      best = upstream
      bestScore = score
    }
  }
  return best ?? any
}

/**
 * Finagle's and Linkerd's cost: expected response time x (requests in flight + 1), so an upstream
 * is charged for the queue it already has. The response time is the EWMA, or the age of the
 * oldest request still in flight once that is past `failurePenaltyMs`: such a request already
 * costs what a failure does, and a stalled upstream that answers nothing would otherwise keep
 * its low average while its queue grows. Younger requests do not count by age: a stall of the
 * client's own event loop ages every upstream's requests at once, and would make the fast
 * upstreams look as slow as an idle slow one.
 */
function responseCost(
  u: Upstream,
  nowMs: number,
  failurePenaltyMs: number,
  slowStartMs: number,
): number {
  const inFlight = u.inFlight
  let cost: number
  if (u.ewma.measured) {
    const age = inFlight.oldestAgeMs(nowMs)
    const ms = age >= failurePenaltyMs ? Math.max(age, u.ewma.read(nowMs)) : u.ewma.read(nowMs)
    cost = (ms + FLOOR_MS) * (inFlight.count + 1)
  } else {
    // Finagle's rule for an upstream not measured yet: free while idle, then as expensive as a
    // failure, so it takes one request at a time until the first answer says how fast it is (a
    // new slow upstream would otherwise take a burst).
    cost = inFlight.count === 0 ? 0 : failurePenaltyMs * inFlight.count
  }
  return cost / weightOf(u, nowMs, slowStartMs)
}

/** The picker for a strategy. Each balancer has its own (round-robin positions are per balancer). */
export function createPicker(strategy: Strategy, settings: PickerSettings): Picker {
  const { scan, slowStartMs, hashLoadFactor, failurePenaltyMs } = settings
  switch (strategy) {
    case 'round-robin': {
      let next = 0
      return (list, _request, nowMs) => {
        if (next >= list.length) next = 0
        const chosen = list[next++]!
        // Slow start without weights: a ramping upstream keeps its turn with probability ramp.
        if (slowStartMs === 0 || list.length === 1) return chosen
        if (Math.random() < chosen.ramp(nowMs, slowStartMs)) return chosen
        if (next >= list.length) next = 0
        return list[next++]!
      }
    }
    case 'weighted-round-robin':
      // nginx's smooth weighted round robin: weights 5, 1, 1 give a a b a c a a, never a burst.
      return (list, _request, nowMs) => {
        let total = 0
        let best = list[0]!
        let bestCurrent = -Infinity
        for (const upstream of list) {
          const w = weightOf(upstream, nowMs, slowStartMs)
          upstream.current += w
          total += w
          if (upstream.current > bestCurrent) {
            best = upstream
            bestCurrent = upstream.current
          }
        }
        best.current -= total
        return best
      }
    case 'random':
      return (list, _request, nowMs) => weightedRandom(list, nowMs, slowStartMs)
    case 'least-connections':
      return (list, _request, nowMs) =>
        leastBy(list, (u) => (u.active + 1) / weightOf(u, nowMs, slowStartMs), scan)
    case 'least-response-time':
      return (list, _request, nowMs) =>
        leastBy(list, (u) => responseCost(u, nowMs, failurePenaltyMs, slowStartMs), scan)
    case 'ip-hash':
    case 'consistent-hash':
      return (list, request, nowMs) => {
        if (list.length === 1) return list[0]!
        const key = request.hashKey()
        return key === undefined
          ? weightedRandom(list, nowMs, slowStartMs)
          : rendezvous(list, key, hashLoadFactor)
      }
  }
}
