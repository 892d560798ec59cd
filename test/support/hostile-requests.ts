// The parts of a hostile request the fuzz tests share: how a path is mangled and which methods a
// client may send. Each test adds the paths, headers and variants of its own package.

/** One of `items`, chosen by `random`. */
export const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T

/**
 * `path` mangled one way routers, proxies and attackers spell it: trailing and doubled slashes,
 * case, percent-encoding (broken ones too), dot segments, long queries, fragments, absolute and
 * authority forms, very long and non-ASCII paths. `extra` are variants of the caller's own.
 */
export function hostileTarget(
  random: () => number,
  path: string,
  { maxQueryPairs, extra = [] }: { maxQueryPairs: number; extra?: readonly (() => string)[] },
): string {
  const variants: (() => string)[] = [
    () => `${path}/`,
    () => `${path}//`,
    () => path.toUpperCase(),
    () => path.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
    () => `${path}%`,
    () => `${path}%zz`,
    () => `${path}%00`,
    () => `${path}%2F..%2F`,
    () => `/..${path}`,
    () => `${path}?${'a=1&'.repeat(Math.floor(random() * maxQueryPairs))}`,
    () => `${path}#frag`,
    () => `${path};jsessionid=1`,
    () => `http://127.0.0.1${path}`,
    () => `//${path}`,
    () => '*',
    () => `${path}/${'x'.repeat(Math.floor(random() * 9000))}`,
    () => `${path}/\u00e9\u4e2d`,
    () => encodeURI(`${path}/\u00e9`),
    () => `${path}\t`,
    ...extra,
  ]
  return pick(random, variants)()
}

// No CONNECT: node:http hands it to a `connect` listener, and without one closes the socket
// before any framework sees it.
/** Methods a client may send, the usual ones most often, lowercase and invalid ones too. */
export const HOSTILE_METHODS: readonly string[] = [
  'GET',
  'GET',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'get',
  'G@T',
  'PROPFIND',
  'PURGE',
  '',
]
