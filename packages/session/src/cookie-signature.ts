import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The prefix express-session writes before a signed value; @fastify/session reads it with
 * `cookiePrefix: 's:'`, which is what makes one cookie work in both frameworks.
 */
export const SIGNED_PREFIX = 's:'

/** A cookie value whose signature checked out. */
export interface VerifiedCookie {
  /** The session id inside the cookie. */
  readonly sid: string
  /** True when an older secret (not the first) signed it, so the next response re-signs it. */
  readonly rotated: boolean
}

function mac(value: string, secret: string): string {
  // cookie-signature's format (express-session): HMAC-SHA256, base64 without padding.
  return createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '')
}

/** Signs `value` with `secret`: `value.mac`, without the `s:` prefix. */
export function sign(value: string, secret: string): string {
  return `${value}.${mac(value, secret)}`
}

/**
 * Checks `signed` (`value.mac`, no prefix) against every secret in order.
 * @returns the value and the index of the secret that signed it, or `undefined` when none did.
 */
export function unsign(
  signed: string,
  secrets: readonly string[],
): { value: string; index: number } | undefined {
  const dot = signed.lastIndexOf('.')
  if (dot <= 0) return undefined
  const value = signed.slice(0, dot)
  const actual = Buffer.from(signed.slice(dot + 1))
  for (let index = 0; index < secrets.length; index++) {
    const expected = Buffer.from(mac(value, secrets[index] as string))
    if (expected.length === actual.length && timingSafeEqual(expected, actual)) {
      return { value, index }
    }
  }
  return undefined
}

/**
 * Verifies a session cookie value as the browser sent it (`s:<sid>.<mac>`).
 * @returns `undefined` for a missing, unprefixed or tampered value.
 */
export function verifyCookie(
  value: string | undefined,
  secrets: readonly string[],
): VerifiedCookie | undefined {
  if (value === undefined || !value.startsWith(SIGNED_PREFIX)) return undefined
  const result = unsign(value.slice(SIGNED_PREFIX.length), secrets)
  return result === undefined ? undefined : { sid: result.value, rotated: result.index > 0 }
}

/**
 * Finds one cookie in a raw `Cookie` header, decoded as express-session decodes it.
 * @returns `undefined` when the header or the cookie is absent.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue
    let raw = pair.slice(eq + 1).trim()
    if (raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1)
    try {
      return decodeURIComponent(raw)
    } catch {
      return raw
    }
  }
  return undefined
}
