import { describe, expect, it } from 'vitest'
import { exactPathTest, excludedPathTest } from '../src/path-tests.js'

describe('excludedPathTest', () => {
  const isListed = excludedPathTest(new Set(['/metrics', '/health', '/ready']))

  it.each([
    '/metrics',
    '/metrics?x=1',
    '/health',
    '/ready?probe=k8s',
    '/metrics/',
    '/Metrics',
    '/METRICS/?x',
    '/%72eady',
    '/%6Detrics',
    'http://127.0.0.1/ready',
    'http://127.0.0.1:8080/metrics?x=1',
  ])('matches %s', (url) => {
    expect(isListed(url)).toBe(true)
  })

  it.each([
    '/users/42',
    '/metrics/extra',
    '/metricsx',
    '/healthz',
    '/',
    '',
    '/h',
    '/?metrics',
    '/%2Fmetrics',
    'http://h/users',
  ])('does not match %s', (url) => {
    expect(isListed(url)).toBe(false)
  })

  it('matches the root path with or without a query when "/" is listed', () => {
    const rootOnly = excludedPathTest(new Set(['/']))
    expect(rootOnly('/')).toBe(true)
    expect(rootOnly('/?a=1')).toBe(true)
    expect(rootOnly('/a')).toBe(false)
  })

  it('matches nothing when nothing is listed', () => {
    expect(excludedPathTest(new Set())('/metrics')).toBe(false)
  })
})

describe('exactPathTest', () => {
  const isMetrics = exactPathTest('/metrics')

  it.each([
    ['/metrics', true],
    ['/metrics?debug=1', true],
    ['/metrics/', false],
    ['/Metrics', false],
    ['/metricsx', false],
  ])('%s: %s', (url, expected) => {
    expect(isMetrics(url)).toBe(expected)
  })
})
