import { describe, expect, it } from 'vitest'
import { mysqlRoleDetails, pgRoleDetails } from '../src/node-role.js'

describe('pgRoleDetails', () => {
  it('reads a primary, a replica with a link, and one without (lag unknown)', () => {
    expect(pgRoleDetails({ rows: [{ inRecovery: false, receivers: 0, lagSeconds: 0 }] })).toEqual({
      role: 'primary',
      writable: true,
      lagSeconds: 0,
      link: null,
    })
    expect(
      pgRoleDetails({ rows: [{ inRecovery: true, receivers: 1, lagSeconds: 1.23456 }] }),
    ).toEqual({ role: 'replica', writable: false, lagSeconds: 1.235, link: 'up' })
    expect(pgRoleDetails({ rows: [{ inRecovery: true, receivers: 0, lagSeconds: null }] })).toEqual(
      { role: 'replica', writable: false, lagSeconds: null, link: 'down' },
    )
    expect(() => pgRoleDetails({ rows: [] })).toThrow('the role query returned no row')
  })
})

/** Answers the two statements a MySQL role probe sends, as a server with these settings would. */
const server =
  (readOnly: number, status: Record<string, unknown>[] | 'old') =>
  (sql: string): Promise<Record<string, unknown>[]> => {
    if (sql.startsWith('SELECT')) return Promise.resolve([{ ro: readOnly }])
    if (status === 'old' && sql === 'SHOW REPLICA STATUS') {
      return Promise.reject(Object.assign(new Error('syntax'), { code: 'ER_PARSE_ERROR' }))
    }
    return Promise.resolve(status === 'old' ? [] : status)
  }

describe('mysqlRoleDetails', () => {
  it('reads a writable node without replication as the primary, on old servers too', async () => {
    const primary = { role: 'primary', writable: true, lagSeconds: 0, link: null }
    expect(await mysqlRoleDetails(server(0, []))).toEqual(primary)
    expect(await mysqlRoleDetails(server(0, 'old'))).toEqual(primary)
    expect(await mysqlRoleDetails(server(1, []))).toEqual({
      role: 'unknown',
      writable: false,
      lagSeconds: null,
      link: null,
    })
  })

  it('reads both column spellings, and knows the lag only while both threads run', async () => {
    const mariadb = { Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Seconds_Behind_Master: 4 }
    expect(await mysqlRoleDetails(server(1, [mariadb]))).toEqual({
      role: 'replica',
      writable: false,
      lagSeconds: 4,
      link: 'up',
    })
    const mysql = {
      Replica_IO_Running: 'Connecting',
      Replica_SQL_Running: 'Yes',
      Seconds_Behind_Source: null,
    }
    expect(await mysqlRoleDetails(server(1, [mysql]))).toEqual({
      role: 'replica',
      writable: false,
      lagSeconds: null,
      link: 'down',
    })
    const stopped = { Slave_IO_Running: 'No', Slave_SQL_Running: 'No', Seconds_Behind_Master: null }
    expect((await mysqlRoleDetails(server(0, [stopped]))).role).toBe('primary')
  })
})
