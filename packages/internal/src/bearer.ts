import { createHash, timingSafeEqual } from 'node:crypto'
import { InvalidOptionError } from './errors.js'
import { secret } from './option-checks.js'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** Shortest bearer token accepted: shorter ones can be guessed by a patient client. */
export const MIN_TOKEN_LENGTH = 16

/**
 * Checks a bearer token option and returns a matcher for `Authorization` headers. A token with
 * whitespace is rejected at creation, since no client can send it back in a header. Both sides
 * are hashed before the constant-time comparison, so it takes the same time whatever the length
 * or content of the guess.
 */
export function bearerMatcher(
  option: string,
  token: unknown,
): (authorization: string | undefined) => boolean {
  const checked = secret(option, token, MIN_TOKEN_LENGTH)
  if (/\s/.test(checked)) {
    throw new InvalidOptionError(
      option,
      'must not contain whitespace',
      `${checked.length} characters`,
    )
  }
  const expected = digest(checked)
  return (authorization) => {
    const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected)
  }
}
