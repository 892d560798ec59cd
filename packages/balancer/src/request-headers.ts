import type { Dispatcher } from 'undici'

/** Request headers in any form undici's `dispatch()` accepts. */
export type DispatchHeaders = Dispatcher.DispatchOptions['headers']

type HeaderValue = string | string[] | undefined

function first(value: HeaderValue | number | null): string | undefined {
  if (value === undefined || value === null) return undefined
  if (Array.isArray(value)) return value[0]
  return String(value)
}

function isPairs(headers: object): headers is Iterable<[string, HeaderValue]> {
  return typeof (headers as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
}

/** A request header's first value, name case-insensitive, whatever form the headers are in. */
export function headerOf(headers: DispatchHeaders, name: string): string | undefined {
  if (headers === undefined || headers === null) return undefined
  if (Array.isArray(headers)) {
    // A flat [name, value, name, value] list.
    const list = headers
    for (let i = 0; i + 1 < list.length; i += 2) {
      if (list[i]!.toLowerCase() === name) return list[i + 1]
    }
    return undefined
  }
  if (isPairs(headers)) {
    for (const [key, value] of headers) if (key.toLowerCase() === name) return first(value)
    return undefined
  }
  const record = headers as Record<string, HeaderValue>
  const exact = record[name]
  if (exact !== undefined) return first(exact)
  for (const key of Object.keys(record)) if (key.toLowerCase() === name) return first(record[key])
  return undefined
}

/** The headers with `name` set to `value` unless the request set it already; never mutates. */
export function withDefaultHeader(
  headers: DispatchHeaders,
  name: string,
  value: string,
): DispatchHeaders {
  if (headerOf(headers, name) !== undefined) return headers
  if (headers === undefined || headers === null) return { [name]: value }
  if (Array.isArray(headers)) return [...headers, name, value]
  if (isPairs(headers)) return [...headers, [name, value]]
  return { ...(headers as Record<string, HeaderValue>), [name]: value }
}
