import { errorAnswer, type HttpAnswer, type Logger } from '@uptimekit/internal'
import {
  sign,
  SIGNED_PREFIX,
  unsign,
  verifyCookie,
  type VerifiedCookie,
} from './cookie-signature.js'
import { isSessionUnavailableError, SessionUnavailableError } from './errors.js'
import {
  resolveSessionOptions,
  type RedisSessionOptions,
  type ResolvedSessionOptions,
} from './options.js'

/** The signer shape @fastify/session accepts as `secret`, signing exactly like express-session. */
export interface SessionSigner {
  sign(value: string): string
  unsign(input: string): { valid: boolean; renew: boolean; value: string | null }
}

/** What both adapters build on: checked options, cookie signing and the 503 answer. */
export interface SessionRuntime {
  readonly options: ResolvedSessionOptions
  /** @fastify/session's signer, so both frameworks sign with the same code. */
  readonly signer: SessionSigner
  /** The answer for a request whose session cannot be loaded or saved because Redis is down. */
  readonly unavailable: HttpAnswer
  /** Verifies a cookie value as sent (`s:<sid>.<mac>`); `undefined` when missing or tampered. */
  verify(value: string | undefined): VerifiedCookie | undefined
  /** The cookie value for `sid`, signed with the first secret and prefixed with `s:`. */
  signCookie(sid: string): string
  /** Whether `err` means the store is unavailable (answer {@link SessionRuntime.unavailable}). */
  isUnavailable(err: unknown): boolean
}

/**
 * Checks the options once and builds what both adapters share.
 * @param logger - the logger to use when the options give none (Fastify's `app.log`)
 */
export function createSessionRuntime(input: RedisSessionOptions, logger?: Logger): SessionRuntime {
  const options = resolveSessionOptions(input, logger)
  const { secrets, retryAfterSeconds } = options
  const first = secrets[0] as string
  return {
    options,
    signer: {
      sign: (value) => sign(value, first),
      unsign: (signed) => {
        const result = unsign(signed, secrets)
        return result === undefined
          ? { valid: false, renew: false, value: null }
          : { valid: true, renew: result.index > 0, value: result.value }
      },
    },
    unavailable: errorAnswer(
      503,
      SessionUnavailableError.code,
      `The session store is unavailable; retry in ${retryAfterSeconds} s`,
      { 'retry-after': String(retryAfterSeconds), 'cache-control': 'no-store' },
    ),
    verify: (value) => verifyCookie(value, secrets),
    signCookie: (sid) => SIGNED_PREFIX + sign(sid, first),
    isUnavailable: isSessionUnavailableError,
  }
}
