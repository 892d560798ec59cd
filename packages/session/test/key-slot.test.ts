import { describe, expect, it } from 'vitest'
import { keySlot } from '../src/key-slot.js'

describe('keySlot', () => {
  it("gives Redis Cluster's CLUSTER KEYSLOT answers", () => {
    expect(keySlot('foo')).toBe(12182)
    expect(keySlot('hello')).toBe(866)
    expect(keySlot('somekey')).toBe(11058)
    expect(keySlot('')).toBe(0)
  })

  // Answers of CLUSTER KEYSLOT on Redis 7.0.
  it('hashes only the first non-empty {…} hash tag', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'))
    // An empty first tag hashes the whole key.
    expect(keySlot('foo{}{bar}')).toBe(8363)
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'))
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'))
    expect(keySlot('sess:{ü}x')).toBe(9552)
  })
})
