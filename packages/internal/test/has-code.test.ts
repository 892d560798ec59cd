import { describe, expect, it } from 'vitest'
import { hasCode, InvalidOptionError, isInvalidOptionError, UptimekitError } from '../src/index.js'

const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}
const throwingCode = Object.defineProperty({}, 'code', {
  get() {
    throw new Error('getter')
  },
})

describe('hasCode and instanceof by code', () => {
  it('never throw, whatever was thrown (revoked Proxy, throwing getter, null, primitives)', () => {
    for (const value of [
      revoked(),
      throwingCode,
      null,
      undefined,
      1n,
      Symbol('s'),
      'UPTIMEKIT_X',
    ]) {
      expect(hasCode(value, 'UPTIMEKIT_X')).toBe(false)
      expect(isInvalidOptionError(value)).toBe(false)
      expect(value instanceof UptimekitError).toBe(false)
      expect(value instanceof InvalidOptionError).toBe(false)
    }
    expect(hasCode({ code: 'UPTIMEKIT_X' }, 'UPTIMEKIT_X')).toBe(true)
  })
})
