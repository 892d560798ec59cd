import {
  sign,
  SIGNED_PREFIX,
  unsign,
  verifyCookie,
  type VerifiedCookie,
} from './cookie-signature.js'
import { isSessionUnavailableError } from './errors.js'
import {
  resolveSessionOptions,
  type RedisSessionOptions,
  type ResolvedSessionOptions,
} from './options.js'
import { RedisSessionStore } from './session-store.js'

/** A framework-free HTTP answer: adapters copy it to the response as is. */
export interface SessionAnswer {
  readonly statusCode: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** The signer shape @fastify/session accepts as `secret`, signing exactly like express-session. */
export interface SessionSigner {
  sign(value: string): string
  unsign(input: string): { valid: boolean; renew: boolean; value: string | null }
}

/** What both adapters build on: checked options, the one store, cookie signing and the 503 answer. */
export interface SessionRuntime {
  readonly options: ResolvedSessionOptions
  readonly store: RedisSessionStore
  /** @fastify/session's signer, so both frameworks sign with the same code. */
  readonly signer: SessionSigner
  /** The answer for a request whose session cannot be loaded or saved because Redis is down. */
  readonly unavailable: SessionAnswer
  /** Verifies a cookie value as sent (`s:<sid>.<mac>`); `undefined` when missing or tampered. */
  verify(value: string | undefined): VerifiedCookie | undefined
  /** The cookie value for `sid`, signed with the first secret and prefixed with `s:`. */
  signCookie(sid: string): string
  /** Whether `err` means the store is unavailable (answer {@link SessionRuntime.unavailable}). */
  isUnavailable(err: unknown): boolean
}

/** Checks the options once and builds what both adapters share. */
export function createSessionRuntime(input: RedisSessionOptions): SessionRuntime {
  const options = resolveSessionOptions(input)
  const { secrets } = options
  const first = secrets[0] as string
  const retryAfter = options.retryAfterSeconds
  return {
    options,
    store: new RedisSessionStore(options),
    signer: {
      sign: (value) => sign(value, first),
      unsign: (input) => {
        const result = unsign(input, secrets)
        return result === undefined
          ? { valid: false, renew: false, value: null }
          : { valid: true, renew: result.index > 0, value: result.value }
      },
    },
    unavailable: {
      statusCode: 503,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
        'retry-after': String(retryAfter),
      },
      body: JSON.stringify({
        statusCode: 503,
        code: 'UPTIMEKIT_SESSION_UNAVAILABLE',
        error: 'Service Unavailable',
        message: `The session store is unavailable; retry in ${retryAfter} s`,
      }),
    },
    verify: (value) => verifyCookie(value, secrets),
    signCookie: (sid) => SIGNED_PREFIX + sign(sid, first),
    isUnavailable: isSessionUnavailableError,
  }
}
