import { AsyncLocalStorage } from 'node:async_hooks'
import { errorText, monotonicMs, type NodeRoleDetails } from '@uptimekit/internal'
import { FallbackFullError, NoPrimaryError, NoReadableNodeError } from './errors.js'
import { resolveOptions, type ReplicaSetOptions, type ResolvedOptions } from './options.js'
import { readSpreader, type Spreadable } from './read-spread.js'
import { isReadOnlyRefusal, ProbeLateError, roleProbe, type RoleProbe } from './role-probe.js'

/**
 * Where a node stands for routing: `'serving'` (the primary taking writes, or a replica in read
 * rotation), `'lagging'` (a replica over the lag bound, or with unknown lag), `'down'` (its last
 * role query failed, or missed its deadline while none of its calls completed), `'unknown'` (not
 * asked yet, or read-only without replicating).
 */
export type NodeState = 'serving' | 'lagging' | 'down' | 'unknown'

/** One node as `snapshot()` shows it. */
export interface NodeSnapshot {
  /** The node's name (`node-1`... unless named). */
  readonly name: string
  /** Its role at its last answered role query. */
  readonly role: 'primary' | 'replica' | 'unknown'
  /** Whether it took writes at its last answered role query. */
  readonly writable: boolean
  /** Its replication lag in seconds at the last role query; `null` when unknown. */
  readonly lagSeconds: number | null
  /** A replica's link to its primary; `null` on a primary or when unknown. */
  readonly link: 'up' | 'down' | null
  /** Where it stands for routing. */
  readonly state: NodeState
  /** Calls running on it now. */
  readonly inFlight: number
  /** Reads sent to it since the set was created. */
  readonly reads: number
  /** Writes sent to it since the set was created. */
  readonly writes: number
  /** Why its last role query failed, credentials removed; only while `state` is `'down'`. */
  readonly error?: string
}

/** A change `onChange()` listeners hear, with the discovery round (1, 2...) that saw it. */
export type ReplicaSetChange =
  | {
      readonly type: 'primary'
      /** The former primary's name, or `null` when there was none. */
      readonly from: string | null
      /** The new primary's name, or `null` when none is left. */
      readonly to: string | null
      readonly round: number
    }
  | {
      readonly type: 'node'
      readonly node: string
      readonly role: NodeSnapshot['role']
      readonly state: NodeState
      readonly previousRole: NodeSnapshot['role']
      readonly previousState: NodeState
      readonly round: number
    }
  | {
      readonly type: 'fallback'
      /** True when no replica is within the lag bound and reads fall back to the primary. */
      readonly active: boolean
      readonly round: number
    }

/** What `track()` carries for one caller (one client across its requests). */
export interface WriteTracking {
  /** When this caller last wrote, in milliseconds since the epoch (`Date.now()`), if ever. */
  wroteAt?: number
  /** Called after each write this caller makes (success or failure), with its time. */
  onWrite?: (wroteAt: number) => void
}

/** Options of one `read()`. */
export interface ReadOptions {
  /**
   * Read from the primary whatever the replicas' lag (a read that must see every write).
   * @default false
   */
  primary?: boolean
}

/** What `healthCheck()` reports while a primary is reachable. */
export interface ReplicaSetHealth {
  readonly primary: string
  /** True while reads fall back to the primary. */
  readonly fallback: boolean
  readonly nodes: readonly NodeSnapshot[]
}

/** A replica set: routes writes to the primary and reads to replicas within the lag bound. */
export interface ReplicaSet<TPool> {
  /** The set's name. */
  readonly name: string
  /** How long after a tracked caller's write its reads go to the primary, in milliseconds. */
  readonly readAfterWriteMs: number
  /** Discovery rounds started so far (the first starts at creation, one more each interval). */
  readonly rounds: number
  /**
   * Runs `fn` with the pool of the node that is primary now. Rejects at once with
   * `NoPrimaryError` while there is none (before the first discovery round ends, it waits for it).
   */
  write<T>(fn: (pool: TPool) => T | Promise<T>): Promise<T>
  /**
   * Runs `fn` with the pool of a replica within the lag bound (spread by the strategy), else the
   * primary (as a capped fallback read). A caller tracked by `track()` that wrote less than
   * `readAfterWriteMs` ago, or whose write a replica may not have replayed yet, reads from the primary.
   */
  read<T>(fn: (pool: TPool) => T | Promise<T>, options?: ReadOptions): Promise<T>
  /** Every node, in the order given. */
  snapshot(): NodeSnapshot[]
  /**
   * A check for `@uptimekit/health`: fails while no primary is reachable; details show every node.
   * It reads the last discovery round and sends no query of its own.
   */
  healthCheck(): (signal?: AbortSignal) => Promise<ReplicaSetHealth>
  /** Subscribes to role, state, primary and fallback changes; returns the unsubscribe function. */
  onChange(listener: (change: ReplicaSetChange) => void): () => void
  /**
   * Runs `fn` for one caller: writes inside it stamp `tracking.wroteAt`, reads inside it honour
   * it. The Express middleware and the Fastify plugin call this for every request.
   */
  track<T>(tracking: WriteTracking, fn: () => T): T
  /** Asks every node its role now (joins a round in flight); resolves when the round ends. */
  refresh(): Promise<void>
  /** Stops the background discovery. Calls keep routing by the last roles seen. */
  close(): void
}

interface Member<TPool> extends Spreadable {
  readonly name: string
  readonly pool: TPool
  readonly probe: RoleProbe
  details: NodeRoleDetails | undefined
  state: NodeState
  error: string | undefined
  /** Wall-clock time up to which this replica had replayed at its last role query. */
  caughtUpTo: number
  inFlight: number
  reads: number
  writes: number
  /** Calls on it that resolved, ever; and that count when the previous round was decided. */
  completed: number
  completedBefore: number
  /** Whether its last role query was late while its calls completed (logged once per stretch). */
  late: boolean
}

function stateOf(details: NodeRoleDetails, maxLagSeconds: number): NodeState {
  if (details.role === 'primary') return details.writable ? 'serving' : 'unknown'
  if (details.role === 'replica') {
    return details.lagSeconds !== null && details.lagSeconds <= maxLagSeconds
      ? 'serving'
      : 'lagging'
  }
  return 'unknown'
}

const snapshotOf = (member: Member<unknown>): NodeSnapshot => ({
  name: member.name,
  role: member.details?.role ?? 'unknown',
  writable: member.details?.writable ?? false,
  lagSeconds: member.details?.lagSeconds ?? null,
  link: member.details?.link ?? null,
  state: member.state,
  inFlight: member.inFlight,
  reads: member.reads,
  writes: member.writes,
  ...(member.state === 'down' && member.error !== undefined ? { error: member.error } : {}),
})

class Routing<TPool> implements ReplicaSet<TPool> {
  readonly name: string
  readonly #options: ResolvedOptions<TPool>
  readonly #members: Member<TPool>[]
  readonly #pick: <T extends Spreadable>(replicas: readonly T[]) => T
  readonly #listeners = new Set<(change: ReplicaSetChange) => void>()
  readonly #tracking = new AsyncLocalStorage<WriteTracking>()
  #primary: Member<TPool> | undefined
  /** The replicas in read rotation, as the last round decided. */
  #rotation: Member<TPool>[] = []
  #fallback = false
  #fallbackReads = 0
  #rounds = 0
  #roundStartedAt = -Infinity
  #round: Promise<void> | undefined
  #first: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: ReplicaSetOptions<TPool>) {
    this.#options = resolveOptions(options)
    this.name = this.#options.name
    this.#pick = readSpreader(this.#options.strategy)
    this.#members = this.#options.nodes.map(({ name, pool }) => ({
      name,
      pool,
      probe: roleProbe(this.#options.kind, pool as object),
      details: undefined,
      state: 'unknown',
      error: undefined,
      caughtUpTo: -Infinity,
      inFlight: 0,
      reads: 0,
      writes: 0,
      completed: 0,
      completedBefore: 0,
      late: false,
    }))
    this.#first = this.refresh()
  }

  get readAfterWriteMs(): number {
    return this.#options.readAfterWriteMs
  }

  get rounds(): number {
    return this.#rounds
  }

  refresh(): Promise<void> {
    if (this.#round !== undefined) return this.#round
    clearTimeout(this.#timer)
    const round = this.#discover().finally(() => {
      this.#round = undefined
      this.#first = undefined
      if (this.#closed) return
      const wait = Math.max(0, this.#options.intervalMs - (monotonicMs() - this.#roundStartedAt))
      this.#timer = setTimeout(() => void this.refresh(), wait)
      this.#timer.unref()
    })
    this.#round = round
    return round
  }

  /** One discovery round: every node asked in parallel, then the primary and rotation decided. */
  async #discover(): Promise<void> {
    this.#roundStartedAt = monotonicMs()
    const round = ++this.#rounds
    const askedAt = Date.now()
    const answers = await Promise.allSettled(
      this.#members.map((member) => member.probe(this.#options.probeTimeoutMs)),
    )
    answers.forEach((answer, i) => {
      const member = this.#members[i] as Member<TPool>
      const before = snapshotOf(member)
      // Calls it completed since the previous round: a node that answers them is not down.
      const completed = member.completed - member.completedBefore
      member.completedBefore = member.completed
      if (answer.status === 'fulfilled') {
        member.details = answer.value
        member.state = stateOf(answer.value, this.#options.maxLagSeconds)
        member.error = undefined
        member.late = false
        const lag = answer.value.lagSeconds
        if (answer.value.role === 'replica' && lag !== null)
          member.caughtUpTo = askedAt - lag * 1000
      } else if (
        answer.reason instanceof ProbeLateError &&
        completed > 0 &&
        member.details !== undefined &&
        member.state !== 'down'
      ) {
        // Late, most likely queued behind the pool's own busy connections: a busy pool is not a
        // down node. It keeps its last role and state until its role query answers again.
        if (!member.late) {
          this.#options.logger.warn(
            {
              set: this.name,
              node: member.name,
              probeTimeoutMs: this.#options.probeTimeoutMs,
              completedCalls: completed,
            },
            `role query of node ${member.name} is late while its calls complete: it keeps its last role`,
          )
        }
        member.late = true
      } else {
        member.state = 'down'
        member.error = errorText(answer.reason)
        member.late = false
      }
      if (before.role !== snapshotOf(member).role || before.state !== member.state) {
        this.#nodeChanged(member, before, round)
      }
    })
    this.#rotation = this.#members.filter(
      (m) => m.state === 'serving' && m.details?.role === 'replica',
    )
    this.#choosePrimary(round)
    this.#updateFallback(round)
  }

  #nodeChanged(member: Member<TPool>, before: NodeSnapshot, round: number): void {
    const now = snapshotOf(member)
    const details = {
      set: this.name,
      node: member.name,
      role: now.role,
      state: now.state,
      lagSeconds: now.lagSeconds,
      previousRole: before.role,
      previousState: before.state,
      ...(now.error === undefined ? {} : { error: now.error }),
    }
    const level = now.state === 'serving' ? 'info' : 'warn'
    this.#options.logger[level](details, `node ${member.name} is ${now.role}, ${now.state}`)
    this.#emit({
      type: 'node',
      node: member.name,
      role: now.role,
      state: now.state,
      previousRole: before.role,
      previousState: before.state,
      round,
    })
  }

  #choosePrimary(round: number): void {
    const candidates = this.#members.filter(
      (m) => m.state === 'serving' && m.details?.role === 'primary',
    )
    if (candidates.length > 1) {
      this.#options.logger.error(
        { set: this.name, primaries: candidates.map((m) => m.name) },
        'more than one node is a writable primary; writes stay on the current one',
      )
    }
    const current = this.#primary
    const next = current !== undefined && candidates.includes(current) ? current : candidates[0]
    if (next !== current) this.#setPrimary(next, round)
  }

  #setPrimary(next: Member<TPool> | undefined, round: number): void {
    const from = this.#primary?.name ?? null
    const to = next?.name ?? null
    this.#primary = next
    if (to === null) {
      this.#options.logger.error({ set: this.name, from }, 'no writable primary: writes fail')
    } else {
      this.#options.logger.info({ set: this.name, from, to }, `primary is ${to}`)
    }
    this.#emit({ type: 'primary', from, to, round })
  }

  #updateFallback(round: number): void {
    const active =
      this.#members.length > 1 &&
      this.#primary !== undefined &&
      !this.#members.some((m) => m.state === 'serving' && m.details?.role === 'replica')
    if (active === this.#fallback) return
    this.#fallback = active
    const details = { set: this.name, maxFallbackReads: this.#options.maxFallbackReads }
    if (active) {
      this.#options.logger.warn(
        details,
        'no replica within the lag bound: reads fall back to the primary, capped',
      )
    } else {
      this.#options.logger.info(details, 'replicas back in read rotation')
    }
    this.#emit({ type: 'fallback', active, round })
  }

  #emit(change: ReplicaSetChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch (error) {
        this.#options.logger.error(
          { set: this.name, error: errorText(error) },
          'an onChange listener threw',
        )
      }
    }
  }

  /** Asks for a round soon after a failed call, at most four times an interval. */
  #nudge(): void {
    if (this.#closed || monotonicMs() - this.#roundStartedAt < this.#options.intervalMs / 4) return
    void this.refresh()
  }

  async #settled(): Promise<void> {
    if (this.#first !== undefined) await this.#first
  }

  async #run<T>(
    member: Member<TPool>,
    kind: 'read' | 'write',
    fn: (pool: TPool) => T | Promise<T>,
  ): Promise<T> {
    member.inFlight++
    member[kind === 'read' ? 'reads' : 'writes']++
    try {
      const result = await fn(member.pool)
      member.completed++
      return result
    } catch (error) {
      if (kind === 'write' && isReadOnlyRefusal(error) && this.#primary === member) {
        // The node said it is read-only: it leaves the primary seat now, not at the next round.
        member.state = 'unknown'
        this.#setPrimary(undefined, this.#rounds)
      }
      this.#nudge()
      throw error
    } finally {
      member.inFlight--
      if (kind === 'write') {
        const tracking = this.#tracking.getStore()
        if (tracking !== undefined) {
          const at = Date.now()
          tracking.wroteAt = at
          tracking.onWrite?.(at)
        }
      }
    }
  }

  write<T>(fn: (pool: TPool) => T | Promise<T>): Promise<T> {
    // Before the first round ends, wait for it; after, no extra await on the hot path.
    if (this.#first !== undefined) return this.#first.then(() => this.#write(fn))
    return this.#write(fn)
  }

  #write<T>(fn: (pool: TPool) => T | Promise<T>): Promise<T> {
    const primary = this.#primary
    if (primary === undefined) return Promise.reject(new NoPrimaryError(this.name))
    return this.#run(primary, 'write', fn)
  }

  read<T>(fn: (pool: TPool) => T | Promise<T>, options?: ReadOptions): Promise<T> {
    if (this.#first !== undefined) return this.#first.then(() => this.#read(fn, options))
    return this.#read(fn, options)
  }

  /** Routes one read; not async, so a routed read costs no promise of its own. */
  #read<T>(fn: (pool: TPool) => T | Promise<T>, options?: ReadOptions): Promise<T> {
    const primary = this.#primary
    const wroteAt = this.#tracking.getStore()?.wroteAt
    const mustSeeWrite =
      options?.primary === true ||
      (wroteAt !== undefined && Date.now() - wroteAt < this.#options.readAfterWriteMs)
    if (mustSeeWrite) {
      if (primary === undefined) return Promise.reject(new NoPrimaryError(this.name))
      return this.#run(primary, 'read', fn)
    }
    const inRotation = this.#rotation
    // A replica serves a tracked caller only once it had replayed past that caller's last write.
    const fresh =
      wroteAt === undefined ? inRotation : inRotation.filter((m) => m.caughtUpTo > wroteAt)
    if (fresh.length > 0) return this.#run(this.#pick(fresh), 'read', fn)
    if (primary === undefined) return Promise.reject(new NoReadableNodeError(this.name))
    if (inRotation.length > 0 || this.#members.length === 1) return this.#run(primary, 'read', fn)
    if (this.#fallbackReads >= this.#options.maxFallbackReads) {
      return Promise.reject(new FallbackFullError(this.name, this.#options.maxFallbackReads))
    }
    return this.#fallbackRead(primary, fn)
  }

  async #fallbackRead<T>(primary: Member<TPool>, fn: (pool: TPool) => T | Promise<T>): Promise<T> {
    this.#fallbackReads++
    try {
      return await this.#run(primary, 'read', fn)
    } finally {
      this.#fallbackReads--
    }
  }

  snapshot(): NodeSnapshot[] {
    return this.#members.map(snapshotOf)
  }

  healthCheck(): (signal?: AbortSignal) => Promise<ReplicaSetHealth> {
    return async () => {
      await this.#settled()
      const primary = this.#primary
      if (primary === undefined) throw new NoPrimaryError(this.name)
      return { primary: primary.name, fallback: this.#fallback, nodes: this.snapshot() }
    }
  }

  onChange(listener: (change: ReplicaSetChange) => void): () => void {
    this.#listeners.add(listener)
    return () => void this.#listeners.delete(listener)
  }

  track<T>(tracking: WriteTracking, fn: () => T): T {
    return this.#tracking.run(tracking, fn)
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
  }
}

/**
 * Creates a replica set over your own pools: each node's role and lag are discovered and followed
 * in the background, `write()` goes to the node that is primary now, `read()` to a replica within
 * the lag bound.
 *
 * @example
 * ```ts
 * const db = createReplicaSet({ kind: 'pg', nodes: [poolA, poolB, poolC], maxLagSeconds: 5 })
 * await db.write((pool) => pool.query('INSERT INTO orders (item) VALUES ($1)', ['book']))
 * const { rows } = await db.read((pool) => pool.query('SELECT * FROM orders'))
 * ```
 */
export function createReplicaSet<TPool>(options: ReplicaSetOptions<TPool>): ReplicaSet<TPool> {
  return new Routing(options)
}
