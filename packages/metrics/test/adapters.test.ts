import { request } from 'node:http'
import { connect } from 'node:net'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { DEFAULTS } from '../src/options.js'
import { getFresh } from './http-get.js'
import { rawGet } from './raw-http.js'
import { routeCounts, samplesOf, valueOf } from './prom-text.js'
import { frameworks, type Started } from './servers.js'

async function scrape(started: Started, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${started.url}/metrics`, { headers })
  expect(res.status).toBe(200)
  return res.text()
}

async function hit(url: string, times = 1, init?: RequestInit): Promise<void> {
  for (let i = 0; i < times; i++) await (await fetch(url, init)).arrayBuffer()
}

const total = 'http_requests_total'
const duration = 'http_request_duration_seconds'

describe.each(frameworks)('%s', (_name, start) => {
  it('counts 20 requests to /users/:id under the route template, with every bucket', async () => {
    const app = await start()
    for (let i = 0; i < 20; i++) await hit(`${app.url}/users/${i}`)
    const text = await scrape(app)
    const labels = { method: 'GET', route: '/users/:id', status_code: '200' }
    expect(valueOf(text, total, labels)).toBe(20)
    expect(valueOf(text, `${duration}_count`, labels)).toBe(20)
    const buckets = samplesOf(text, `${duration}_bucket`, labels)
    expect(buckets.map((b) => b.labels.le)).toEqual([...DEFAULTS.buckets.map(String), '+Inf'])
    expect(buckets.at(-1)!.value).toBe(20)
    const counts = buckets.map((b) => b.value)
    expect(counts).toEqual([...counts].sort((a, b) => a - b))
    expect(samplesOf(text, total).map((s) => s.labels.route)).toEqual(['/users/:id'])
    expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
  })

  it('measures durations in seconds from before the handler to the end of the response', async () => {
    const app = await start()
    await hit(`${app.url}/wait`, 3)
    const text = await scrape(app)
    const labels = { method: 'GET', route: '/wait', status_code: '200' }
    // /wait answers after 50 ms: each request takes that at least, and far less than a second
    // on any machine (a sum in milliseconds would be 150 or more).
    const sum = valueOf(text, `${duration}_sum`, labels)
    expect(sum).toBeGreaterThanOrEqual(0.15)
    expect(sum).toBeLessThan(3)
    expect(valueOf(text, `${duration}_bucket`, { ...labels, le: '0.025' })).toBe(0)
  })

  it('labels 404s, thrown errors and 500 answers', async () => {
    const app = await start()
    await hit(`${app.url}/nope`)
    await hit(`${app.url}/boom`, 2)
    await hit(`${app.url}/async-boom`)
    await hit(`${app.url}/error-500`)
    const text = await scrape(app)
    expect(routeCounts(text)).toEqual([
      ['#unmatched', '404', 1],
      ['/boom', '500', 2],
      ['/async-boom', '500', 1],
      ['/error-500', '500', 1],
    ])
    expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
  })

  it('adds one route value for 1,000 random URLs', async () => {
    const app = await start()
    // 20 clients at a time: 1,000 requests one after another take too long on a loaded machine.
    for (let batch = 0; batch < 50; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => hit(`${app.url}/scan/${batch}/${i}/${Math.random()}`)),
      )
    }
    const text = await scrape(app)
    expect(samplesOf(text, total)).toEqual([
      {
        name: total,
        labels: { method: 'GET', route: '#unmatched', status_code: '404' },
        value: 1000,
      },
    ])
  })

  it('gives mounted routers and prefixes their full template', async () => {
    const app = await start()
    await hit(`${app.url}/api/orgs/acme/members/7`)
    await hit(`${app.url}/api/orgs/initech/members/8`)
    await hit(`${app.url}/api/v1/items/42`)
    const text = await scrape(app)
    expect(samplesOf(text, total).map((s) => [s.labels.route, s.value])).toEqual([
      ['/api/orgs/:org/members/:member', 2],
      ['/api/v1/items/:itemId', 1],
    ])
  })

  it('shares one method value for methods outside the standard set', async () => {
    const app = await start()
    await hit(`${app.url}/users/1`, 1, { method: 'PURGE' })
    await hit(`${app.url}/users/1`, 1, { method: 'PROPFIND' })
    const text = await scrape(app)
    expect(samplesOf(text, total).map((s) => [s.labels.method, s.value])).toEqual([['_OTHER', 2]])
  })

  it('does not measure /metrics or the probe paths', async () => {
    const app = await start()
    await hit(`${app.url}/live`, 3)
    await hit(`${app.url}/live?verbose=1`)
    await scrape(app)
    const text = await scrape(app)
    expect(samplesOf(text, total)).toEqual([])
    expect(samplesOf(text, `${duration}_count`)).toEqual([])
  })

  it('does not measure excluded paths written any way a router accepts', async () => {
    const app = await start()
    const targets = [
      '/metrics/',
      '/Metrics',
      '/METRICS?x=1',
      '/%72eady',
      '/Live/',
      '/%6Cive',
      `http://127.0.0.1:${new URL(app.url).port}/live`,
      'http://127.0.0.1/live?probe=1',
      'http://127.0.0.1/metrics',
    ]
    for (const target of targets) await rawGet(app.url, target)
    const text = await scrape(app)
    expect(samplesOf(text, total)).toEqual([])
    expect(samplesOf(text, `${duration}_count`)).toEqual([])
    expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
    await rawGet(app.url, '/users/1')
    await rawGet(app.url, 'http://127.0.0.1/users/2')
    expect(routeCounts(await scrape(app))).toEqual([['/users/:id', '200', 2]])
  })

  it('measures a probe path when excludePaths leaves it out', async () => {
    const app = await start({ excludePaths: [] })
    await hit(`${app.url}/live`)
    const text = await scrape(app)
    expect(samplesOf(text, total).map((s) => [s.labels.route, s.value])).toEqual([['/live', 1]])
  })

  it('counts a client that aborts mid-response once as 499 and brings in-flight back to 0', async () => {
    const app = await start()
    await new Promise<void>((resolve, reject) => {
      const req = request(`${app.url}/slow`, (res) => {
        res.once('data', () => {
          req.destroy()
          resolve()
        })
      })
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)))
      req.end()
    })
    await vi.waitFor(async () => {
      expect(
        valueOf(await scrape(app), total, { method: 'GET', route: '/slow', status_code: '499' }),
      ).toBe(1)
    })
    const text = await scrape(app)
    expect(routeCounts(text)).toEqual([['/slow', '499', 1]])
    expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
  })

  it('counts pipelined requests on one connection, each under its own route', async () => {
    const app = await start()
    const { port } = new URL(app.url)
    const socket = connect(Number(port), '127.0.0.1')
    onTestFinished(() => {
      socket.destroy()
    })
    const ask = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`
    // The second request arrives while the first is still being answered.
    socket.write(ask('/wait') + ask('/users/7') + ask('/nope'))
    let received = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (received += chunk))
    await vi.waitFor(() => expect(received.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(3))
    expect(received.match(/HTTP\/1\.1 \d{3}/g)).toEqual([
      'HTTP/1.1 200',
      'HTTP/1.1 200',
      'HTTP/1.1 404',
    ])
    const text = await scrape(app)
    expect(routeCounts(text)).toEqual([
      ['/wait', '200', 1],
      ['/users/:id', '200', 1],
      ['#unmatched', '404', 1],
    ])
    expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
  })

  it('brings in-flight back to 0 and counts every one of 50 pipelined requests when the client leaves', async () => {
    const app = await start()
    let seen = 0
    app.server.on('request', (req: { url?: string }) => {
      if (req.url === '/slow') seen++
    })
    const { port } = new URL(app.url)
    const socket = connect(Number(port), '127.0.0.1')
    onTestFinished(() => {
      socket.destroy()
    })
    const ask = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`
    socket.on('error', () => {})
    // One quick answer, then 49 requests queued behind one that never finishes: Node emits no
    // `close` for those responses when the connection dies.
    socket.write(ask('/users/1') + ask('/slow').repeat(49))
    await new Promise((resolve) => setTimeout(resolve, 100))
    socket.destroy()
    await vi.waitFor(async () => {
      expect(valueOf(await scrape(app), 'http_requests_in_flight', {})).toBe(0)
    })
    expect(seen).toBeGreaterThan(1)
    expect(routeCounts(await scrape(app))).toEqual([
      ['/users/:id', '200', 1],
      ['/slow', '499', seen],
    ])
  })

  it('measures nothing after metrics.close()', async () => {
    const app = await start()
    await hit(`${app.url}/users/1`)
    app.metrics.close()
    await hit(`${app.url}/users/2`)
    const text = await scrape(app)
    expect(samplesOf(text, total).map((s) => [s.labels.route, s.value])).toEqual([
      ['/users/:id', 1],
    ])
    expect(valueOf(text, 'http_requests_in_flight', {})).toBe(0)
  })

  it('shows requests in flight while they run', async () => {
    const app = await start()
    const req = request(`${app.url}/slow`)
    req.on('error', () => {})
    req.end()
    await vi.waitFor(async () => {
      expect(valueOf(await scrape(app), 'http_requests_in_flight', {})).toBe(1)
    })
    req.destroy()
    await vi.waitFor(async () => {
      expect(valueOf(await scrape(app), 'http_requests_in_flight', {})).toBe(0)
    })
  })

  it('protects /metrics with a bearer token', async () => {
    const token = 'a-long-scrape-token-1234'
    const app = await start({ token })
    const none = await fetch(`${app.url}/metrics`)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="metrics"')
    expect(none.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await none.json()).toEqual({
      statusCode: 401,
      code: 'UPTIMEKIT_METRICS_UNAUTHORIZED',
      error: 'Unauthorized',
      message: '/metrics needs a valid bearer token',
    })
    const wrong = await fetch(`${app.url}/metrics`, {
      headers: { authorization: 'Bearer a-long-scrape-token-1235' },
    })
    expect(wrong.status).toBe(401)
    const text = await scrape(app, { authorization: `Bearer ${token}` })
    expect(text).toContain('# TYPE http_requests_total counter')
  })

  it('answers OpenMetrics to a scraper that asks for it, Prometheus text otherwise', async () => {
    const app = await start()
    await hit(`${app.url}/users/1`)
    const prometheusAccept =
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
    const open = await fetch(`${app.url}/metrics`, { headers: { accept: prometheusAccept } })
    expect(open.headers.get('content-type')).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    )
    const openText = await open.text()
    expect(openText.endsWith('# EOF\n')).toBe(true)
    expect(openText).toContain('# TYPE http_requests counter')
    const labels = { method: 'GET', route: '/users/:id', status_code: '200' }
    expect(valueOf(openText, total, labels)).toBe(1)
    const plain = await fetch(`${app.url}/metrics`)
    expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const plainText = await plain.text()
    expect(plainText).toContain('# TYPE http_requests_total counter')
    expect(plainText).toContain('# TYPE process_cpu_user_seconds_total counter')
    expect(valueOf(plainText, total, labels)).toBe(1)
  })

  it('uses OpenTelemetry names, labels and buckets when asked', async () => {
    const app = await start({ naming: 'otel' })
    await hit(`${app.url}/users/1`)
    const text = await scrape(app)
    const labels = {
      http_request_method: 'GET',
      http_route: '/users/:id',
      http_response_status_code: '200',
    }
    const name = 'http_server_request_duration_seconds'
    expect(valueOf(text, `${name}_count`, labels)).toBe(1)
    expect(samplesOf(text, `${name}_bucket`, labels).map((b) => b.labels.le)).toEqual([
      ...['0', '0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1'],
      ...['2.5', '5', '7.5', '10', '+Inf'],
    ])
    expect(valueOf(text, 'http_server_active_requests', {})).toBe(0)
    expect(samplesOf(text, total)).toEqual([])
  })

  it('folds label sets past the series cap into one overflow series and warns once', async () => {
    const warn = vi.fn()
    const app = await start({
      maxSeriesPerMetric: 2,
      logger: { info: vi.fn(), warn, error: vi.fn() },
    })
    await hit(`${app.url}/users/1`)
    await hit(`${app.url}/error-500`)
    await hit(`${app.url}/boom`, 2)
    await hit(`${app.url}/api/v1/items/1`)
    const text = await scrape(app)
    // The cap holds 2 label sets: /users/:id and /error-500; the rest fold into #overflow.
    expect(routeCounts(text)).toEqual([
      ['/users/:id', '200', 1],
      ['/error-500', '500', 1],
      ['#overflow', '#overflow', 3],
    ])
    expect(valueOf(text, 'http_metrics_series_overflow_total', {})).toBe(3)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(warn).toHaveBeenCalledWith(
      { metric: duration, maxSeriesPerMetric: 2 },
      'http_request_duration_seconds reached 2 series; new label sets now fold into one series labelled #overflow',
    )
  })

  it('adds static labels and a prefix', async () => {
    const app = await start({ prefix: 'api_', labels: { service: 'users' }, defaultMetrics: false })
    await hit(`${app.url}/users/1`)
    const text = await scrape(app)
    expect(
      valueOf(text, 'api_http_requests_total', {
        method: 'GET',
        route: '/users/:id',
        status_code: '200',
        service: 'users',
      }),
    ).toBe(1)
    expect(valueOf(text, 'api_http_requests_in_flight', { service: 'users' })).toBe(0)
    expect(text).not.toContain('process_cpu')
  })

  it('exports the open connections of the server', async () => {
    const app = await start()
    const sockets = [connect(Number(new URL(app.url).port), '127.0.0.1')]
    sockets.push(connect(Number(new URL(app.url).port), '127.0.0.1'))
    await Promise.all(sockets.map((s) => new Promise((r) => s.once('connect', r))))
    try {
      const text = await getFresh(`${app.url}/metrics`)
      expect(valueOf(text, 'http_open_connections', {})).toBe(3)
    } finally {
      for (const s of sockets) s.destroy()
    }
  })

  it('runs two apps in one process, each with its own registry', async () => {
    const a = await start()
    const b = await start()
    await hit(`${a.url}/users/1`, 2)
    await hit(`${b.url}/users/1`, 3)
    const labels = { method: 'GET', route: '/users/:id', status_code: '200' }
    expect(valueOf(await scrape(a), total, labels)).toBe(2)
    expect(valueOf(await scrape(b), total, labels)).toBe(3)
  })
})
