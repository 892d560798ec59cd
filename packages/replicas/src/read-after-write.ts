import { createHmac, timingSafeEqual } from 'node:crypto'
import {
  bool,
  InvalidOptionError,
  optional,
  optionsObject,
  secret,
  shown,
  text,
} from '@uptimekit/internal'
import type { WriteTracking } from './replica-set.js'

/** The part of a replica set the read-after-write adapters use. */
export interface TrackableReplicaSet {
  /** How long after a write a caller's reads go to the primary, in milliseconds. */
  readonly readAfterWriteMs: number
  track<T>(tracking: WriteTracking, fn: () => T): T
}

/** Options of the Express middleware and the Fastify plugin that keep read-after-write per client. */
export interface ReadAfterWriteOptions {
  /**
   * Key of the cookie's HMAC-SHA256 signature, at least 32 characters; an array rotates keys
   * (the first signs, every one verifies). A client cannot forge "I just wrote" to push its reads
   * onto the primary.
   */
  secret: string | readonly string[]
  /**
   * Name of the cookie carrying when this client last wrote.
   * @default 'uptimekit_wrote'
   */
  cookieName?: string
  /**
   * Whether the cookie is sent over HTTPS only (`Secure`).
   * @default false
   */
  secure?: boolean
}

/** The defaults of the read-after-write options; the README's options table mirrors this object. */
export const READ_AFTER_WRITE_DEFAULTS: {
  readonly cookieName: 'uptimekit_wrote'
  readonly secure: false
} = Object.freeze({ cookieName: 'uptimekit_wrote', secure: false })

/** One request's read-after-write handling, shared by both adapters. */
export interface ReadAfterWrite {
  /** The cookie's name. */
  readonly cookieName: string
  /**
   * The tracking of one request: `wroteAt` from its signed cookie, and `setCookie` called with a
   * fresh `Set-Cookie` value after each write it makes.
   */
  begin(cookieHeader: string | undefined, setCookie: (value: string) => void): WriteTracking
  /** Runs `next` (the rest of the request) as the caller `tracking` describes. */
  run<T>(tracking: WriteTracking, next: () => T): T
  /** The `Set-Cookie` values of a response with this cookie set to `cookie` (others kept, ours replaced). */
  merged(existing: unknown, cookie: string): string[]
}

const MIN_SECRET_LENGTH = 32
// A stamp this far past our clock comes from a skewed server or a forger with the key; ignore it.
const MAX_FUTURE_MS = 60_000
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

const mac = (value: string, key: string): Buffer => createHmac('sha256', key).update(value).digest()

function keysOf(value: unknown): readonly string[] {
  if (Array.isArray(value)) {
    if (value.length === 0)
      throw new InvalidOptionError('secret', 'must not be empty', 'an empty array')
    return value.map((key, i) => secret(`secret[${i}]`, key, MIN_SECRET_LENGTH))
  }
  return [secret('secret', value, MIN_SECRET_LENGTH)]
}

/** Finds one cookie's raw value in a `Cookie` header. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * The core of both adapters (`owner` names the adapter in option errors, `extraKeys` are its own
 * option keys). The cookie is `<ms since epoch>.<base64url HMAC>`; wall-clock time,
 * because it crosses processes (every app server checks it against its own clock).
 */
export function readAfterWrite(
  owner: string,
  db: TrackableReplicaSet,
  options: ReadAfterWriteOptions,
  extraKeys: readonly string[] = [],
): ReadAfterWrite {
  if (typeof db !== 'object' || db === null || typeof db.track !== 'function') {
    throw new InvalidOptionError('db', 'must be a replica set from createReplicaSet()', shown(db))
  }
  const given = optionsObject(owner, options, ['secret', 'cookieName', 'secure', ...extraKeys])
  const keys = keysOf(given.secret)
  const cookieName =
    optional(given.cookieName, (v) => text('cookieName', v)) ?? READ_AFTER_WRITE_DEFAULTS.cookieName
  if (!COOKIE_NAME.test(cookieName)) {
    throw new InvalidOptionError(
      'cookieName',
      'must be a cookie token (no spaces, = or ;)',
      shown(cookieName),
    )
  }
  const secure =
    optional(given.secure, (v) => bool('secure', v)) ?? READ_AFTER_WRITE_DEFAULTS.secure
  const maxAge = Math.max(1, Math.ceil(db.readAfterWriteMs / 1000))
  const attributes = `; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`

  const verify = (raw: string | undefined): number | undefined => {
    const dot = raw?.indexOf('.') ?? -1
    if (raw === undefined || dot <= 0) return undefined
    const stamp = raw.slice(0, dot)
    if (!/^\d{1,15}$/.test(stamp)) return undefined
    const given = Buffer.from(raw.slice(dot + 1), 'base64url')
    const signed = keys.some((key) => {
      const expected = mac(stamp, key)
      return expected.length === given.length && timingSafeEqual(expected, given)
    })
    const at = Number(stamp)
    return signed && at <= Date.now() + MAX_FUTURE_MS ? at : undefined
  }
  const cookieFor = (at: number): string =>
    `${cookieName}=${at}.${mac(`${at}`, keys[0] as string).toString('base64url')}${attributes}`

  return {
    cookieName,
    begin(cookieHeader, setCookie) {
      const wroteAt = verify(cookieValue(cookieHeader, cookieName))
      return {
        ...(wroteAt === undefined ? {} : { wroteAt }),
        onWrite: (at) => setCookie(cookieFor(at)),
      }
    },
    run: (tracking, next) => db.track(tracking, next),
    merged(existing, cookie) {
      const list = Array.isArray(existing)
        ? existing.filter((value): value is string => typeof value === 'string')
        : typeof existing === 'string'
          ? [existing]
          : []
      return [...list.filter((value) => !value.startsWith(`${cookieName}=`)), cookie]
    },
  }
}
