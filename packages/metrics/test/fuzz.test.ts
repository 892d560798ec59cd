import { describe, expect, it, vi } from 'vitest'
import { watchProcess } from '../../../test/support/process-crashes.js'
import { HOSTILE_METHODS, hostileTarget, pick } from '../../../test/support/hostile-requests.js'
import { type RawRequest, sendRaw } from '../../../test/support/raw-request.js'
import { seeded } from '../../../test/support/seeded.js'
import { samplesOf, valueOf } from './prom-text.js'
import { frameworks } from './servers.js'

// Change the seed to explore; a failure names the request that caused it, replayable from here.
const SEED = 0x3e7_51c5
const REQUESTS = 300
const CONCURRENCY = 12
// Far above any answer here: reaching it means a hang (only /slow holds its answer on purpose).
const ANSWER_WITHIN_MS = 10_000
// How long a client waits on /slow, which sends half a body and never ends it, before leaving.
const SLOW_CLIENT_LEAVES_MS = 200
const CAP = 12

const TOKEN = 'fuzz-metrics-TOKEN-0123456789ab'
const INTERNALS = /\n\s+at |node_modules|\/src\/|\.ts:\d|\.js:\d/

const PATHS = ['/metrics', '/metrics', '/metrics', '/users/7', '/live', '/boom', '/nope', '/']

function target(random: () => number): string {
  const base = pick(random, PATHS)
  if (random() < 0.3) return base
  return hostileTarget(random, base, {
    maxQueryPairs: 3000,
    extra: [
      () => base.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
      () => `${base}%2e%2e/metrics`,
      () => `/x/..${base}`,
      () => `/./${base.slice(1)}`,
      () => `${base}/../metrics`,
      () => `${base}?token=${TOKEN.slice(0, 6)}&%ff=%`,
      () => `HTTP://127.0.0.1:1${base}?x`,
      () => `http://evil.example${base}`,
      () => `/users/${Math.floor(random() * 1e9)}`,
      () => `/other/${Math.floor(random() * 1e9)}`,
      () => '/slow',
    ],
  })
}

const ACCEPTS: readonly (string | undefined)[] = [
  undefined,
  '',
  '*/*',
  'text/plain',
  'application/openmetrics-text',
  'application/openmetrics-text;version=1.0.0;q=0.9,text/plain;q=0.5',
  'application/openmetrics-text;q=abc',
  'APPLICATION/OPENMETRICS-TEXT',
  'text/plain;q=0',
  ',,,;;;==',
  'a/'.repeat(2000),
  `${'text/plain;q=0.5,'.repeat(300)}application/openmetrics-text`,
  '\u00ff\u00fe',
]

const AUTHORIZATIONS: readonly (string | undefined)[] = [
  undefined,
  undefined,
  '',
  `Bearer ${TOKEN}`,
  `Bearer ${TOKEN}`,
  `Bearer ${TOKEN}`,
  `Bearer ${TOKEN}`,
  `Bearer ${TOKEN}`,
  `Bearer ${TOKEN}`,
  `bearer ${TOKEN}`,
  `BEARER\t${TOKEN}`,
  `Bearer  ${TOKEN} `,
  `Bearer ${TOKEN}x`,
  `Bearer x${TOKEN}`,
  `Bearer ${TOKEN.slice(0, -1)}`,
  `Bearer ${TOKEN.slice(0, -1)}B`,
  `Bearer ${TOKEN.toUpperCase()}`,
  `Bearer ${TOKEN} ${TOKEN}`,
  `Bearer ${TOKEN},Bearer ${TOKEN}`,
  `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`,
  `Token ${TOKEN}`,
  TOKEN,
  'Bearer',
  'Bearer ',
  `Bearer ${'x'.repeat(5000)}`,
  'Bearer \u00e9\u00e9\u00e9',
  `Bearer ${encodeURIComponent(TOKEN).replace('-', '%2D')}`,
]

type Shape = RawRequest

function shape(random: () => number): Shape {
  const headers: [string, string][] = [['host', '127.0.0.1']]
  const accept = pick(random, ACCEPTS)
  if (accept !== undefined) headers.push(['accept', accept])
  const authorization = pick(random, AUTHORIZATIONS)
  if (authorization !== undefined) headers.push(['authorization', authorization])
  if (random() < 0.1)
    headers.push(['authorization', pick(random, [`Bearer ${TOKEN}`, 'Bearer no'])])
  if (random() < 0.05) headers.push(['x-big', 'y'.repeat(20_000 + Math.floor(random() * 60_000))])
  const body = random() < 0.15 ? '{"a":' : ''
  if (body !== '' || random() < 0.1) headers.push(['content-length', String(body.length)])
  headers.push(['connection', 'close'])
  return {
    method: pick(random, HOSTILE_METHODS),
    target: target(random),
    version: random() < 0.1 ? 'HTTP/1.0' : 'HTTP/1.1',
    headers,
    body,
  }
}

/**
 * Whether the request carries the token the way the adapters accept it. Node keeps the first of
 * several `Authorization` headers and trims its value; the scheme is case-insensitive.
 */
function authorized(request: Shape): boolean {
  const first = request.headers.find(([name]) => name === 'authorization')?.[1].trim()
  const match = /^bearer[ \t]+(\S+)$/i.exec(first ?? '')
  return match?.[1] === TOKEN
}

const KNOWN_STATUSES = [200, 204, 400, 401, 404, 405, 414, 431, 500]
// What only a scrape answer holds: the exposition's comment lines and our own metric names.
const EXPOSITION = /# (HELP|TYPE) |http_requests_total|process_cpu/

describe.each(frameworks)('%s metrics under random and malformed requests', (name, start) => {
  it(`answers ${REQUESTS} of them (seed ${SEED}) without leak, crash or unbounded series`, async () => {
    const crashes = watchProcess()
    const app = await start({ token: TOKEN, maxSeriesPerMetric: CAP, logger: false })
    const port = Number(new URL(app.url).port)
    const random = seeded(SEED)
    const requests = Array.from({ length: REQUESTS }, () => shape(random))
    const statuses = new Map<number, number>()
    let scrapes = 0
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const request = requests[next++] as Shape
        const what = `${name} ${JSON.stringify(request).slice(0, 300)}`
        // /slow never ends its answer (a HEAD of it never even sends the head): the client leaves
        // mid-response, as an impatient one does.
        const leaveAfterMs = request.target === '/slow' ? SLOW_CLIENT_LEAVES_MS : undefined
        const reply = await sendRaw(port, request, {
          answerWithinMs: ANSWER_WITHIN_MS,
          leaveAfterMs,
        })
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1)
        if (request.target !== '/slow') expect(KNOWN_STATUSES, what).toContain(reply.status)
        expect(reply.raw, what).not.toContain(TOKEN)
        const body = reply.raw.slice(reply.raw.indexOf('\r\n\r\n') + 4)
        // Our own answers (a scrape or the house error body) show nothing internal. Express's
        // default error page is not ours: outside production it shows the stack, on purpose.
        if (body.includes('UPTIMEKIT_')) expect(body, what).not.toMatch(INTERNALS)
        if (
          EXPOSITION.test(body) ||
          /^content-type: (text\/plain; ?version=|application\/openmetrics-text)/im.test(reply.raw)
        ) {
          scrapes++
          expect(authorized(request), `served without the token: ${what}`).toBe(true)
        }
        // The plain path with the exact token is a scrape; without it, a 401 (HEAD has no body).
        if (
          request.target === '/metrics' &&
          (request.method === 'GET' || request.method === 'HEAD')
        ) {
          if (!request.headers.some(([header]) => header === 'x-big')) {
            expect(reply.status, what).toBe(authorized(request) ? 200 : 401)
          }
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    expect(crashes.count()).toBe(0)
    expect(scrapes).toBeGreaterThan(0)
    for (const status of [200, 400, 401, 404])
      expect(statuses.get(status), `${status}`).toBeGreaterThan(0)

    // Nothing is stuck: every request has left the gauge, a correct scrape works, a wrong one not.
    const headers = { authorization: `Bearer ${TOKEN}` }
    let text = ''
    await vi.waitFor(
      async () => {
        const res = await fetch(`${app.url}/metrics`, { headers })
        expect(res.status).toBe(200)
        text = await res.text()
        expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
      },
      { timeout: 10_000, interval: 50 },
    )
    const series = samplesOf(text, 'http_requests_total')
    // The cap holds, the overflow series included, and the fuzz did reach it.
    expect(series.length).toBeLessThanOrEqual(CAP + 1)
    expect(series.some((s) => s.labels.route === '#overflow')).toBe(true)
    expect(text).not.toContain(TOKEN)
    const refused = await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer no' } })
    expect(refused.status).toBe(401)
    expect(await refused.text()).not.toMatch(EXPOSITION)
  })
})
