import { execFile, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { promisify } from 'node:util'
import { startRedis, type RedisProcess } from './redis-server.js'

/** A Redis Cluster of 3 masters and 3 replicas this test run started on spare ports. */
export interface RedisCluster {
  /** The six nodes, in the order `redis-cli --cluster create` got them (masters first). */
  readonly nodes: readonly RedisProcess[]
  /** Seed nodes for a client. */
  readonly seeds: { host: string; port: number }[]
  /** SIGKILLs every node; safe to call twice. */
  stop(): Promise<void>
}

const free = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })

/**
 * A port whose cluster bus port (port + 10000) is free too; the ephemeral range would put the bus
 * past 65535, so pick from 20000-44999 at random and check both.
 */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 25_000)
    if (taken.has(port) || taken.has(port + 10_000)) continue
    if ((await free(port)) && (await free(port + 10_000))) {
      taken.add(port)
      taken.add(port + 10_000)
      return port
    }
  }
}

/** Resolves once every node reports `cluster_state:ok` and knows all six nodes. */
export async function clusterSettled(ports: readonly number[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const states = await Promise.all(
      ports.map(async (port) => {
        const info = await infoOf(port, 'CLUSTER INFO').catch(() => '')
        return (
          info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${ports.length}`)
        )
      }),
    )
    if (states.every(Boolean)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`cluster on ${ports.join(',')} did not settle`)
}

/** A bulk reply (INFO, CLUSTER INFO) from one node, through redis-cli. */
export async function infoOf(port: number, command: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'redis-cli',
    ['-p', String(port), ...command.split(' ')],
    {
      timeout: 3000,
    },
  )
  return stdout
}

/**
 * Starts 6 redis-server processes with `--cluster-enabled yes --cluster-node-timeout 2000` and
 * joins them with `redis-cli --cluster create … --cluster-replicas 1`. Stop it with `stop()`.
 */
export async function startCluster(): Promise<RedisCluster> {
  const taken = new Set<number>()
  const nodes: RedisProcess[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()))
  }
  try {
    for (let i = 0; i < 6; i++) {
      const port = await clusterPort(taken)
      nodes.push(
        await startRedis({
          port,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-node-timeout',
            '2000',
            '--cluster-config-file',
            'nodes.conf',
          ],
        }),
      )
    }
    const addresses = nodes.map(({ port }) => `127.0.0.1:${port}`)
    await new Promise<void>((resolve, reject) => {
      const create = spawn(
        'redis-cli',
        ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'],
        { stdio: 'ignore' },
      )
      create.once('error', reject)
      create.once('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`redis-cli --cluster create exited with ${code}`)),
      )
    })
    await clusterSettled(nodes.map(({ port }) => port))
    // Every replica must have finished its first sync, or a failover finds no up-to-date replica.
    for (const { port } of nodes) {
      while (true) {
        const info = await infoOf(port, 'INFO replication')
        if (info.includes('role:master') || info.includes('master_link_status:up')) break
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { nodes, seeds: nodes.slice(0, 3).map(({ port }) => ({ host: '127.0.0.1', port })), stop }
}
