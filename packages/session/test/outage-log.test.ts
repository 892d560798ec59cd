import { EventEmitter } from 'node:events'
import type { Cluster } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { logClusterOutages } from '../src/outage-log.js'
import { recordingLogger } from './apps.js'

/** Just what the outage log reads of a cluster client: its events and its slot map. */
function fakeCluster(slots: string[][]): Cluster {
  return Object.assign(new EventEmitter(), {
    slots,
    status: 'connecting',
    nodes: () => [],
  }) as unknown as Cluster
}

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7002'), {
  code: 'ECONNREFUSED',
})

describe('cluster outage log', () => {
  it('starts an outage at an error of a node the slot map routes to, once', () => {
    const cluster = fakeCluster([['127.0.0.1:7001', '127.0.0.1:7004'], ['127.0.0.1:7002']])
    const logger = recordingLogger()
    logClusterOutages(cluster, 'cluster 127.0.0.1:7001', logger)
    cluster.emit('node error', refused, '127.0.0.1:7002')
    cluster.emit('node error', refused, '127.0.0.1:7002')
    cluster.emit('error', new Error('Failed to refresh slots cache.'))
    expect(logger.lines).toEqual([
      {
        level: 'error',
        obj: {
          redis: 'cluster 127.0.0.1:7001',
          node: '127.0.0.1:7002',
          err: { message: refused.message, code: 'ECONNREFUSED' },
        },
        msg: 'redis cluster unavailable; reconnecting with backoff',
      },
    ])
    cluster.emit('end')
  })

  it('ignores errors of a node no slot is routed to any more (a replaced master)', () => {
    const cluster = fakeCluster([['127.0.0.1:7001'], ['127.0.0.1:7005', '127.0.0.1:7006']])
    const logger = recordingLogger()
    logClusterOutages(cluster, 'cluster 127.0.0.1:7001', logger)
    cluster.emit('node error', refused, '127.0.0.1:7002')
    expect(logger.lines).toEqual([])
  })

  it('ignores a slot refresh a busy node did not answer in time', () => {
    const cluster = fakeCluster([['127.0.0.1:7001'], ['127.0.0.1:7002']])
    const logger = recordingLogger()
    logClusterOutages(cluster, 'cluster 127.0.0.1:7001', logger)
    cluster.emit('node error', new Error('timeout'), '127.0.0.1:7002')
    expect(logger.lines).toEqual([])
  })

  it('counts any node error before the slot map is known', () => {
    const cluster = fakeCluster([])
    const logger = recordingLogger()
    logClusterOutages(cluster, 'cluster 127.0.0.1:7001', logger)
    cluster.emit('node error', refused, '127.0.0.1:7001')
    expect(logger.lines.map(({ msg }) => msg)).toEqual([
      'redis cluster unavailable; reconnecting with backoff',
    ])
    cluster.emit('end')
  })
})
