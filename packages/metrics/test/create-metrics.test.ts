import { channel } from 'node:diagnostics_channel'
import { ServerResponse, type IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import * as promClient from 'prom-client'
import { describe, expect, it, vi } from 'vitest'
import { isInvalidOptionError } from '../src/errors.js'
import { createMetrics, metricsOption, type Metrics } from '../src/metrics.js'
import { DEFAULTS, type MetricsOptions } from '../src/options.js'
import { valueOf } from './prom-text.js'

/**
 * A finished response as the tracker sees it: the fields it reads, and the message Node publishes
 * when a server response finishes.
 */
function respond(metrics: Metrics, route: string | undefined, method = 'GET', status = 200): void {
  const socket = new Socket()
  const request = { method, socket } as unknown as IncomingMessage
  const response = Object.assign(Object.create(ServerResponse.prototype) as ServerResponse, {
    statusCode: status,
  })
  const { core } = metricsOption(metrics)
  const tracker = core.tracker()
  tracker.start(request, response, core.route(route))
  channel('http.server.response.finish').publish({ request, response, socket })
  tracker.close()
}

const labels = { method: 'GET', route: '/a', status_code: '200' }

describe('createMetrics options', () => {
  it.each<[MetricsOptions, string]>([
    [
      { tokne: 'a-long-scrape-token-1234' } as MetricsOptions,
      '`tokne` is not an option of createMetrics; did you mean `token`? (options: promClient, registry, prefix, buckets, labels, excludePaths, metricsPath, token, openMetrics, defaultMetrics, maxSeriesPerMetric, naming, server, logger) (got "a-long-scrape-token-1234")',
    ],
    [
      { prefix: '/ops' },
      '`prefix` must be empty or match [a-zA-Z_:][a-zA-Z0-9_:]*: it prefixes metric names, not routes (`metricsPath` moves /metrics) (got "/ops")',
    ],
    [
      { buckets: [] },
      '`buckets` must be a non-empty array of finite numbers in seconds (got an empty array)',
    ],
    [{ buckets: [0.1, -1] }, '`buckets[1]` must be a finite number at least 0 (got -1)'],
    [
      { buckets: [0.1, 0.1] },
      '`buckets[1]` must be greater than the bound before it (0.1) (got 0.1)',
    ],
    [
      { labels: { route: 'x' } },
      '`labels.route` must not reuse a label this package sets (method, route, status_code, le) (got "route")',
    ],
    [
      { labels: { 'bad-name': 'x' } },
      '`labels.bad-name` must be a label name matching [a-zA-Z_][a-zA-Z0-9_]* (got "bad-name")',
    ],
    [
      { excludePaths: ['health'] },
      '`excludePaths[0]` must be a path starting with / without query, fragment or spaces (got "health")',
    ],
    [{ token: 'short' }, '`token` must be a string of at least 16 characters (got 5 characters)'],
    [{ maxSeriesPerMetric: 0 }, '`maxSeriesPerMetric` must be an integer at least 1 (got 0)'],
    [
      { naming: 'statsd' as 'otel' },
      "`naming` must be one of 'prometheus', 'otel' (got \"statsd\")",
    ],
    [{ openMetrics: 'yes' as never }, '`openMetrics` must be a boolean (got "yes")'],
    [
      { registry: {} as promClient.Registry },
      '`registry` must be a prom-client Registry (metrics, registerMetric, getSingleMetric, getMetricsAsJSON, removeSingleMetric) (got an object)',
    ],
    [
      { promClient: {} as typeof promClient },
      '`promClient` must be the prom-client module (import * as promClient) (got an object)',
    ],
    [
      { logger: console.log as never },
      '`logger` must be false or have info, warn and error methods (pino-shaped) (got a function)',
    ],
  ])('rejects %j', (options, message) => {
    let caught: unknown
    try {
      createMetrics(options)
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(TypeError)
    expect(isInvalidOptionError(caught)).toBe(true)
    expect((caught as Error).message).toBe(message)
  })

  it('never prints a token in its error', () => {
    expect(() => createMetrics({ token: 'secret value here' })).toThrow(
      '`token` must not contain whitespace (got 17 characters)',
    )
  })

  it('keeps DEFAULTS frozen all the way down', () => {
    expect(() => (DEFAULTS.excludePaths as string[]).push('/users')).toThrow(TypeError)
    expect(() => (DEFAULTS.buckets as number[]).push(60)).toThrow(TypeError)
    expect(() => Object.assign(DEFAULTS.labels, { pod: 'x' })).toThrow(TypeError)
    expect(Object.isFrozen(DEFAULTS)).toBe(true)
    expect(DEFAULTS.excludePaths).toEqual([
      '/metrics',
      '/live',
      '/ready',
      '/health',
      '/health/detailed',
      '/startup',
    ])
  })

  it('leaves the options object as it was given', () => {
    const options: MetricsOptions = { defaultMetrics: false, labels: { service: 'api' } }
    const before = Reflect.ownKeys(options)
    createMetrics(options)
    expect(Reflect.ownKeys(options)).toEqual(before)
    expect(Object.isFrozen(options)).toBe(false)
  })
})

describe('registries', () => {
  it('writes to a fresh registry by default, never to the global one', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    respond(metrics, '/a')
    expect(metrics.registry).not.toBe(promClient.register)
    expect(promClient.register.getSingleMetric('http_requests_total')).toBeUndefined()
    expect(valueOf(await metrics.registry.metrics(), 'http_requests_total', labels)).toBe(1)
  })

  it('reuses its own metrics when created twice on one registry', async () => {
    const registry = new promClient.Registry()
    const a = createMetrics({ registry })
    const b = createMetrics({ registry, promClient })
    respond(a, '/a')
    respond(b, '/a')
    const text = await registry.metrics()
    expect(valueOf(text, 'http_requests_total', labels)).toBe(2)
    expect(text.match(/# TYPE process_cpu_user_seconds_total/g)).toHaveLength(1)
  })

  it('refuses a registry that holds the names with other buckets', () => {
    const registry = new promClient.Registry()
    createMetrics({ registry })
    expect(() => createMetrics({ registry, buckets: [1, 2] })).toThrow(
      '`registry` already holds `http_request_duration_seconds` with other labels, buckets or series cap; use the same options, another `registry` or a `prefix` (got "method,route,status_code")',
    )
  })

  it('refuses a registry where a foreign metric holds a name, and registers nothing', () => {
    const registry = new promClient.Registry()
    new promClient.Gauge({ name: 'http_requests_in_flight', help: 'x', registers: [registry] })
    expect(() => createMetrics({ registry, defaultMetrics: false })).toThrow(
      '`registry` already holds another metric named `http_requests_in_flight`; pass another `registry` or a `prefix` (got a registry with that name taken)',
    )
    expect(registry.getSingleMetric('http_request_duration_seconds')).toBeUndefined()
  })

  it('uses the injected prom-client module for default metrics', () => {
    const collectDefaultMetrics = vi.fn()
    const client = { ...promClient, collectDefaultMetrics }
    const metrics = createMetrics({ promClient: client })
    expect(collectDefaultMetrics).toHaveBeenCalledWith({ register: metrics.registry, prefix: '' })
  })

  it('lets registry.resetMetrics() zero the request series', async () => {
    const metrics = createMetrics({ defaultMetrics: false })
    respond(metrics, '/a')
    ;(metrics.registry as promClient.Registry).resetMetrics()
    expect(valueOf(await metrics.registry.metrics(), 'http_requests_total', labels)).toBe(0)
  })

  it('keeps the registry default labels in both formats', async () => {
    const registry = new promClient.Registry()
    registry.setDefaultLabels({ pod: 'api-1' })
    const metrics = createMetrics({ registry, defaultMetrics: false })
    respond(metrics, '/a')
    const withPod = { ...labels, pod: 'api-1' }
    const text = (await metrics.render({})).body
    expect(valueOf(text, 'http_requests_total', withPod)).toBe(1)
    const open = (await metrics.render({ accept: 'application/openmetrics-text' })).body
    expect(valueOf(open, 'http_requests_total', withPod)).toBe(1)
    expect(valueOf(open, 'http_request_duration_seconds_count', withPod)).toBe(1)
    // Rendering OpenMetrics must not rename the user's counters for later text scrapes.
    expect(await registry.metrics()).toContain('# TYPE http_requests_total counter')
  })

  it('answers 500 and logs when a collector throws', async () => {
    const registry = new promClient.Registry()
    new promClient.Gauge({
      name: 'broken',
      help: 'x',
      registers: [registry],
      collect() {
        throw new Error('collector down')
      },
    })
    const error = vi.fn()
    const metrics = createMetrics({ registry, logger: { info: vi.fn(), warn: vi.fn(), error } })
    const answer = await metrics.render({})
    expect(answer.statusCode).toBe(500)
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(JSON.parse(answer.body)).toEqual({
      statusCode: 500,
      code: 'UPTIMEKIT_METRICS_RENDER_FAILED',
      error: 'Internal Server Error',
      message: 'a collector failed; see the service log',
    })
    expect(error).toHaveBeenCalledTimes(1)
    expect(error).toHaveBeenCalledWith({ error: 'collector down' }, 'rendering /metrics failed')
  })
})

describe('format negotiation', () => {
  const OPEN = 'application/openmetrics-text; version=1.0.0; charset=utf-8'
  const TEXT = 'text/plain; version=0.0.4; charset=utf-8'

  it.each([
    [undefined, TEXT],
    ['', TEXT],
    ['*/*', TEXT],
    ['application/openmetrics-text', OPEN],
    ['Application/OpenMetrics-Text', OPEN],
    ['APPLICATION/OPENMETRICS-TEXT; version=1.0.0', OPEN],
    ['application/openmetrics-text;q=0.1, text/plain', TEXT],
    ['text/plain;q=0.5, application/openmetrics-text;q=0.9', OPEN],
    ['application/openmetrics-text;q=0, */*', TEXT],
    ['application/json', TEXT],
  ])('answers Accept %j with %s', async (accept, contentType) => {
    const metrics = createMetrics({ defaultMetrics: false })
    const answer = await metrics.render({ accept })
    expect(answer.statusCode).toBe(200)
    expect(answer.headers['content-type']).toBe(contentType)
    expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(answer.body)))
    expect(answer.body.endsWith('# EOF\n')).toBe(contentType === OPEN)
  })

  it('answers the registry format whatever the Accept with openMetrics: false', async () => {
    const metrics = createMetrics({ defaultMetrics: false, openMetrics: false })
    const answer = await metrics.render({ accept: 'application/openmetrics-text' })
    expect(answer.headers['content-type']).toBe(TEXT)
  })
})
