/** A short-lived extra connection used to check whether Redis answers again. */
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

/**
 * The part of an ioredis client the session store uses. Any ioredis `Redis` instance fits
 * (standalone, TLS or Sentinel), whether made by `createRedisClient()` or by you.
 */
export interface SessionRedisClient {
  /** ioredis connection status: `'ready'` means commands go out now. */
  readonly status: string
  ping(): Promise<string>
  get(key: string): Promise<string | null>
  set(key: string, value: string, mode: 'PX', milliseconds: number): Promise<unknown>
  del(...keys: string[]): Promise<number>
  pttl(key: string): Promise<number>
  pexpire(key: string, milliseconds: number): Promise<number>
  once(event: 'ready' | 'error', listener: (...args: unknown[]) => void): unknown
  removeListener(event: 'ready' | 'error', listener: (...args: unknown[]) => void): unknown
  /** A new connection to the same Redis (ioredis `duplicate`), for recovery probes. */
  duplicate(override: ProbeConnectionOptions): ProbeConnection
}
