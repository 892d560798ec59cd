import { describe, expect, it } from 'vitest'
import { createReplicaSet, DEFAULTS, isInvalidOptionError } from '../src/index.js'
import { replicasMiddleware } from '../src/express.js'

const pool = { query: () => Promise.reject(new Error('not used')) }
const make = (options: Record<string, unknown>) => () =>
  createReplicaSet({ kind: 'pg', nodes: [pool], logger: false, ...options } as never).close()

describe('createReplicaSet options', () => {
  it('rejects bad options at creation, naming the option', () => {
    expect(make({ kind: 'mongo' })).toThrow("`kind` must be one of 'pg', 'mysql' (got \"mongo\")")
    expect(make({ nodes: [] })).toThrow('`nodes` must be a non-empty array of pools (got an array)')
    expect(make({ nodes: [{}] })).toThrow(
      '`nodes[0]` must be a pg Pool (or { name, pool }) (got an object)',
    )
    expect(make({ kind: 'mysql', nodes: [{}] })).toThrow(
      '`nodes[0]` must be a mysql2 pool (or { name, pool })',
    )
    expect(make({ nodes: [pool, pool] })).toThrow('`nodes` must not hold the same pool twice')
    expect(
      make({
        nodes: [
          { name: 'a', pool },
          { name: 'a', pool: { query: pool.query } },
        ],
      }),
    ).toThrow('`nodes` must have unique names (got "a")')
    expect(make({ intervalMs: 2 ** 31 })).toThrow(
      '`intervalMs` must be an integer of milliseconds from 10 to 2147483647 (got 2147483648)',
    )
    expect(make({ maxLagSeconds: -1 })).toThrow(
      '`maxLagSeconds` must be a finite number at least 0',
    )
    expect(make({ strategy: 'fastest' })).toThrow(
      "`strategy` must be one of 'round-robin', 'random', 'least-busy' (got \"fastest\")",
    )
    expect(make({ maxFallbackReads: 1.5 })).toThrow(
      '`maxFallbackReads` must be an integer at least 0',
    )
    expect(make({ intervalMS: 100 })).toThrow(
      /^`intervalMS` is not an option of createReplicaSet; did you mean `intervalMs`\?/,
    )
    expect(make({ logger: console.log })).toThrow(
      '`logger` must be false or have info, warn and error methods',
    )
  })

  it('keeps its defaults frozen', () => {
    expect(DEFAULTS).toEqual({
      maxLagSeconds: 5,
      readAfterWriteMs: 2000,
      intervalMs: 1000,
      strategy: 'round-robin',
      maxFallbackReads: 10,
      name: 'default',
    })
    expect(Object.isFrozen(DEFAULTS)).toBe(true)
  })
})

describe('read-after-write options', () => {
  const db = createReplicaSet({ kind: 'pg', nodes: [pool], logger: false })
  db.close()
  it('rejects a short secret by its shape, a bad cookie name and unknown keys', () => {
    let caught: unknown
    try {
      replicasMiddleware(db, { secret: 'short-secret' })
    } catch (error) {
      caught = error
    }
    expect(isInvalidOptionError(caught)).toBe(true)
    expect((caught as Error).message).toBe(
      '`secret` must be a string of at least 32 characters (got 12 characters)',
    )
    const secret = 'x'.repeat(32)
    expect(() => replicasMiddleware(db, { secret, cookieName: 'a b' })).toThrow(
      '`cookieName` must be a cookie token (no spaces, = or ;) (got "a b")',
    )
    expect(() => replicasMiddleware(db, { secret: [] })).toThrow('`secret` must not be empty')
    expect(() => replicasMiddleware(db, { secret, maxAge: 1 } as never)).toThrow(
      /^`maxAge` is not an option of replicasMiddleware/,
    )
    expect(() => replicasMiddleware({} as never, { secret })).toThrow(
      '`db` must be a replica set from createReplicaSet() (got an object)',
    )
  })
})
