import { describe, expect, it } from 'vitest'
import { excludedPathTest } from '../src/excluded-paths.js'

describe('excludedPathTest', () => {
  const isExcluded = excludedPathTest(new Set(['/metrics', '/health', '/ready']))

  it.each(['/metrics', '/metrics?x=1', '/health', '/ready?probe=k8s'])('excludes %s', (url) => {
    expect(isExcluded(url)).toBe(true)
  })

  it.each(['/users/42', '/metrics/extra', '/metricsx', '/healthz', '/', '', '/h', '/?metrics'])(
    'measures %s',
    (url) => {
      expect(isExcluded(url)).toBe(false)
    },
  )

  it('excludes the root path with or without a query when "/" is listed', () => {
    const rootOnly = excludedPathTest(new Set(['/']))
    expect(rootOnly('/')).toBe(true)
    expect(rootOnly('/?a=1')).toBe(true)
    expect(rootOnly('/a')).toBe(false)
  })
})
