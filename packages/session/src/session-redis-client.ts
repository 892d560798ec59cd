/** A short-lived extra connection used to check whether a hung Redis answers again. */
export interface ProbeConnection {
  ping(): Promise<string>
  on(event: 'error', listener: (err: unknown) => void): unknown
  disconnect(): void
}

/** The options the store overrides on that extra connection: connect once, no retries. */
export interface ProbeConnectionOptions {
  lazyConnect: true
  enableOfflineQueue: true
  maxRetriesPerRequest: 0
  retryStrategy: () => null
}

/** One Redis node a listing operation scans: the client itself, or one master of a cluster. */
export interface ScanNode {
  scan(
    cursor: string,
    match: 'MATCH',
    pattern: string,
    count: 'COUNT',
    size: number,
  ): Promise<[cursor: string, keys: string[]]>
  get(key: string): Promise<string | null>
  del(...keys: string[]): Promise<number>
}

/**
 * The part of an ioredis client the session store uses. Any ioredis 5 or 6 `Redis` (standalone,
 * TLS or Sentinel) or `Cluster` fits, whether made by `createRedisClient()` or by you.
 */
export interface SessionRedisClient extends ScanNode {
  /** ioredis connection status: `'ready'` means commands go out now. */
  readonly status: string
  /** `true` on an ioredis `Cluster`. */
  readonly isCluster?: boolean
  /** A cluster's slot map: each slot's master address (`host:port`) first. */
  readonly slots?: readonly (readonly string[] | undefined)[]
  ping(): Promise<string>
  set(key: string, value: string, mode: 'PX', milliseconds: number): Promise<unknown>
  pttl(key: string): Promise<number>
  pexpire(key: string, milliseconds: number): Promise<number>
  eval(script: string, numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>
  once(event: 'ready' | 'error', listener: (...args: unknown[]) => void): unknown
  removeListener(event: 'ready' | 'error', listener: (...args: unknown[]) => void): unknown
  /** A cluster's masters, each scanned by listing operations. */
  nodes?(role: 'master'): ScanNode[]
  /**
   * A new connection to the same Redis (ioredis `duplicate(options)`), for recovery probes. Typed
   * loosely because a Cluster's `duplicate` takes other arguments; it is never called on one.
   */
  duplicate?(override?: never): unknown
}
