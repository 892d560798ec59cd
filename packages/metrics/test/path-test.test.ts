import { describe, expect, it } from 'vitest'
import { pathTest } from '../src/path-test.js'

describe('pathTest', () => {
  const isListed = pathTest(new Set(['/metrics', '/health', '/ready']))

  it.each(['/metrics', '/metrics?x=1', '/health', '/ready?probe=k8s'])('matches %s', (url) => {
    expect(isListed(url)).toBe(true)
  })

  it.each(['/users/42', '/metrics/extra', '/metricsx', '/healthz', '/', '', '/h', '/?metrics'])(
    'does not match %s',
    (url) => {
      expect(isListed(url)).toBe(false)
    },
  )

  it('matches the root path with or without a query when "/" is listed', () => {
    const rootOnly = pathTest(new Set(['/']))
    expect(rootOnly('/')).toBe(true)
    expect(rootOnly('/?a=1')).toBe(true)
    expect(rootOnly('/a')).toBe(false)
  })
})
