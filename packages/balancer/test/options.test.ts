import { describe, expect, it } from 'vitest'
import { createBalancer, DEFAULTS, InvalidOptionError, isInvalidOptionError } from '../src/index.js'

const cases: [string, unknown, string][] = [
  ['no upstreams', {}, '`upstreams` must be an array (got undefined)'],
  [
    'a typo',
    { upstreams: [], stratgy: 'random' },
    '`stratgy` is not an option of createBalancer; did you mean `strategy`?',
  ],
  [
    'an unknown strategy',
    { upstreams: [], strategy: 'fastest' },
    "`strategy` must be one of 'round-robin'",
  ],
  [
    'a URL with a path',
    { upstreams: ['http://10.0.0.1:3000/api'] },
    '`upstreams[0]` must be an origin, without path or query',
  ],
  [
    'a URL with credentials',
    { upstreams: ['http://u:p@10.0.0.1'] },
    '`upstreams[0]` must not carry credentials (got a URL with credentials)',
  ],
  ['a ftp URL', { upstreams: ['ftp://10.0.0.1'] }, '`upstreams[0]` must be an http or https URL'],
  [
    'a repeated upstream',
    { upstreams: ['http://10.0.0.1', 'http://10.0.0.1:80'] },
    '`upstreams[1]` must not repeat an upstream',
  ],
  [
    'a zero weight',
    { upstreams: [{ url: 'http://10.0.0.1', weight: 0 }] },
    '`upstreams[0].weight` must be an integer at least 1 and at most 1000 (got 0)',
  ],
  [
    'a breaker without tryAcquire',
    { upstreams: [{ url: 'http://10.0.0.1', breaker: {} }] },
    '`upstreams[0].breaker` must have a tryAcquire() method',
  ],
  [
    'a negative fail timeout',
    { upstreams: [], passive: { failTimeoutMs: -1 } },
    '`passive.failTimeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got -1)',
  ],
  [
    'a huge interval',
    { upstreams: [], active: { path: '/ready', intervalMs: 2 ** 31 } },
    '`active.intervalMs` must be an integer of milliseconds',
  ],
  [
    'an active check without path',
    { upstreams: [], active: {} },
    '`active.path` must be a non-empty string (got undefined)',
  ],
  [
    'a relative check path',
    { upstreams: [], active: { path: 'ready' } },
    '`active.path` must start with /',
  ],
  [
    'a retry status below 500',
    { upstreams: [], retryStatuses: [404] },
    '`retryStatuses[0]` must be an integer at least 500',
  ],
  [
    'an ejection cap above 1',
    { upstreams: [], outlier: { maxEjectedRatio: 2 } },
    '`outlier.maxEjectedRatio` must be a number above 0 and at most 1 (got 2)',
  ],
  [
    'a max ejection under the base',
    { upstreams: [], outlier: { baseEjectionMs: 10_000, maxEjectionMs: 5000 } },
    '`outlier.maxEjectionMs` must be at least outlier.baseEjectionMs',
  ],
  [
    'a bad logger',
    { upstreams: [], logger: console.log },
    '`logger` must be false or have info, warn and error methods',
  ],
  [
    'a load factor under 1',
    { upstreams: [], hashLoadFactor: 0.5 },
    '`hashLoadFactor` must be a finite number at least 1 (got 0.5)',
  ],
]

describe('createBalancer options', () => {
  it.each(cases)('rejects %s', (_name, options, message) => {
    let thrown: unknown
    try {
      createBalancer(options as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError)
    expect(isInvalidOptionError(thrown)).toBe(true)
    expect((thrown as Error).message).toContain(message)
  })

  it('has frozen defaults', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true)
    expect(Object.isFrozen(DEFAULTS.passive)).toBe(true)
    expect(DEFAULTS.passive).toEqual({ maxFails: 1, failTimeoutMs: 10_000 })
  })
})
