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
}
