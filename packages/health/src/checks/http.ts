import { func, milliseconds, optional, optionsObject, redact } from '@uptimekit/internal'
import { InvalidOptionError, shown } from '../errors.js'
import type { HealthCheck } from '../options.js'

/** Options of `httpCheck()`. */
export interface HttpCheckOptions {
  /**
   * The request's own deadline, in milliseconds; the check's signal still
   * aborts it earlier if the health timeout is shorter.
   * @default 800
   */
  timeoutMs?: number
  /**
   * Decides from the body (text) whether a 2xx answer passes.
   * @default undefined (any 2xx passes, the body is not read)
   */
  expect?: (body: string) => boolean
  /**
   * Extra request headers, e.g. `{ authorization: 'Bearer …' }`; never shown in errors.
   * @default {}
   */
  headers?: Record<string, string>
}

/** Defaults of `httpCheck()` options. */
export const HTTP_CHECK_DEFAULTS: { readonly timeoutMs: 800 } = Object.freeze({ timeoutMs: 800 })

/**
 * Checks an upstream over HTTP with a `GET`: passes on 2xx (and `expect`),
 * fails on anything else, a network error or its own timeout. Credentials in
 * the URL are sent as a Basic `Authorization` header (fetch refuses them in
 * the URL) and left out of every error message.
 *
 * @param url - absolute http(s) URL of the upstream's health endpoint
 */
export function httpCheck(url: string | URL, options: HttpCheckOptions = {}): HealthCheck {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new InvalidOptionError(
      'url',
      'must be an absolute http(s) URL',
      redact(shown(String(url))),
    )
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new InvalidOptionError('url', 'must be an absolute http(s) URL', shown(target.protocol))
  }
  const given = optionsObject('httpCheck', options, ['timeoutMs', 'expect', 'headers'])
  const timeoutMs = milliseconds('timeoutMs', given.timeoutMs ?? HTTP_CHECK_DEFAULTS.timeoutMs)
  const expect = optional(given.expect, (v) => func<(body: string) => boolean>('expect', v))
  let headers: Headers
  try {
    headers = new Headers(given.headers as Record<string, string> | undefined)
  } catch {
    throw new InvalidOptionError(
      'headers',
      'must be an object of header names and values',
      shown(given.headers),
    )
  }
  if (target.username !== '' || target.password !== '') {
    const user = decodeURIComponent(target.username)
    const credentials = `${user}:${decodeURIComponent(target.password)}`
    headers.set('authorization', `Basic ${Buffer.from(credentials).toString('base64')}`)
    target.username = ''
    target.password = ''
  }
  const shownUrl = target.href

  return async (signal) => {
    // Either deadline aborts the request: ours (own timeout) or the health run's (signal).
    const controller = new AbortController()
    const ownTimeout = setTimeout(() => controller.abort(), timeoutMs)
    const onAbort = (): void => controller.abort(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      let response: Response
      try {
        response = await fetch(target, { headers, signal: controller.signal })
      } catch (error) {
        if (controller.signal.aborted && !signal.aborted) {
          throw new Error(`GET ${shownUrl} timed out after ${timeoutMs} ms`)
        }
        throw new Error(`GET ${shownUrl} failed`, { cause: error })
      }
      if (response.status < 200 || response.status > 299) {
        await response.body?.cancel()
        throw new Error(`GET ${shownUrl} answered ${response.status}`)
      }
      if (expect === undefined) await response.body?.cancel()
      else if (!expect(await response.text())) {
        throw new Error(`GET ${shownUrl} answered ${response.status} with an unexpected body`)
      }
      return { statusCode: response.status }
    } finally {
      clearTimeout(ownTimeout)
      signal.removeEventListener('abort', onAbort)
    }
  }
}
