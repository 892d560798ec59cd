import { expect } from 'vitest'

/** The cookie both frameworks store with the default options, as {@link storedJson} shows it. */
export const DEFAULT_STORED_COOKIE = Object.freeze({
  originalMaxAge: 'checked',
  expires: 'checked',
  secure: false,
  httpOnly: true,
  path: '/',
  sameSite: 'lax',
})

/**
 * A stored session's JSON with the default TTL, its cookie's `expires` checked to lie ahead and
 * its `originalMaxAge` checked to be the TTL, both then shown as `'checked'`. express-session
 * computes `originalMaxAge` as `expires` minus the time it reads it, so the clock ticking between
 * the two stores 86,399,999 now and then.
 */
export function storedJson(raw: string | null): unknown {
  const parsed = JSON.parse(raw as string) as {
    cookie: { expires: string; originalMaxAge: number }
  }
  expect(Date.parse(parsed.cookie.expires)).toBeGreaterThan(Date.now())
  expect(parsed.cookie.originalMaxAge).toBeGreaterThanOrEqual(86_399_990)
  expect(parsed.cookie.originalMaxAge).toBeLessThanOrEqual(86_400_000)
  return { ...parsed, cookie: { ...parsed.cookie, originalMaxAge: 'checked', expires: 'checked' } }
}
