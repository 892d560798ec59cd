import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import express, {
  type NextFunction,
  type Request as ExpressRequest,
  type Response as ExpressResponse,
} from 'express'
import Fastify from 'fastify'
import type { Pool } from 'pg'
import { createReplicaSet, type ReplicaSet } from '../src/index.js'
import { replicasMiddleware } from '../src/express.js'
import { replicasPlugin } from '../src/fastify.js'
import { needBinary } from '../../../test/support/binaries.js'
import { startPgCluster, type PgCluster } from './support/pg-cluster.js'

const pgReady = needBinary('/usr/lib/postgresql/15/bin/initdb')
const SECRET = 'a-test-secret-of-at-least-32-characters'

type Db = ReplicaSet<Pool>

const insert = (db: Db, name: string) =>
  db.write(async (pool) => {
    const { rows } = await pool.query<{ id: number }>(
      'INSERT INTO items (name) VALUES ($1) RETURNING id',
      [name],
    )
    return rows[0]!.id
  })
const find = (db: Db, id: string) =>
  db.read(async (pool) => (await pool.query('SELECT id FROM items WHERE id = $1', [id])).rowCount)

/** Starts an app with POST /items (a write) and GET /items/:id (a read); resolves to its URL. */
async function startExpress(db: Db): Promise<string> {
  const app = express()
  // Body parsers first: they call next() from stream events, outside any request's tracking.
  app.use(express.json())
  app.use(replicasMiddleware(db, { secret: SECRET }))
  app.post('/items', (req, res, next) => {
    insert(db, (req.body as { name: string }).name).then((id) => res.json({ id }), next)
  })
  app.get('/items/:id', (req, res, next) => {
    find(db, req.params.id).then((found) => res.status(found === 1 ? 200 : 404).end(), next)
  })
  app.use((error: Error, _req: ExpressRequest, res: ExpressResponse, _next: NextFunction) => {
    res.status(500).json({ error: error.message })
  })
  const server = app.listen(0, '127.0.0.1')
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())))
  server.keepAliveTimeout = 30_000
  await new Promise((resolve) => server.once('listening', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function startFastify(db: Db): Promise<string> {
  const app = Fastify()
  onTestFinished(() => app.close())
  await app.register(replicasPlugin, { db, secret: SECRET })
  app.post<{ Body: { name: string } }>('/items', async (req) => ({
    id: await insert(db, req.body.name),
  }))
  app.get<{ Params: { id: string } }>('/items/:id', async (req, reply) =>
    reply.code((await find(db, req.params.id)) === 1 ? 200 : 404).send(),
  )
  return app.listen({ port: 0, host: '127.0.0.1' })
}

/** A client that keeps the cookie its server sets, as a browser does (or forgets it). */
function client(url: string, keepCookie: boolean) {
  let cookie: string | undefined
  return async (method: string, path: string): Promise<Response> => {
    const headers: Record<string, string> = cookie === undefined ? {} : { cookie }
    const response = await fetch(`${url}${path}`, {
      method,
      // A JSON body, so the request goes through body parsing before the handler.
      ...(method === 'POST'
        ? { body: '{"name":"x"}', headers: { ...headers, 'content-type': 'application/json' } }
        : { headers }),
    })
    const set = response.headers.getSetCookie()[0]
    if (keepCookie && set !== undefined) cookie = set.split(';')[0]
    return response
  }
}

/** What went wrong over a run, by kind: a stale read is the anomaly; the others are failures. */
interface Misses {
  /** Reads answered 404: a replica that had not replayed the write yet. */
  stale: number
  /** Writes (POST) that did not answer 200; their read is not sent. */
  failedWrites: number
  /** Reads that answered neither 200 nor 404. */
  failedReads: number
  /** The first few distinct failure answers, as `METHOD status body`. */
  failures: string[]
}

/** Writes then reads back `iterations` times over `clients` clients; resolves to the misses. */
async function anomalies(
  url: string,
  iterations: number,
  clients: number,
  keepCookie: boolean,
): Promise<Misses> {
  const misses: Misses = { stale: 0, failedWrites: 0, failedReads: 0, failures: [] }
  const failed = (what: string) => {
    if (misses.failures.length < 5 && !misses.failures.includes(what)) misses.failures.push(what)
  }
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const send = client(url, keepCookie)
      for (let i = 0; i < iterations / clients; i++) {
        const write = await send('POST', '/items')
        const body = await write.text()
        if (write.status !== 200) {
          misses.failedWrites++
          failed(`POST ${write.status} ${body}`)
          continue
        }
        const { id } = JSON.parse(body) as { id: number }
        const read = await send('GET', `/items/${id}`)
        const text = await read.text()
        if (read.status === 404) misses.stale++
        else if (read.status !== 200) {
          misses.failedReads++
          failed(`GET ${read.status} ${text}`)
        }
      }
    }),
  )
  return misses
}

const NONE: Misses = { stale: 0, failedWrites: 0, failedReads: 0, failures: [] }

let cluster: PgCluster
let db: Db
beforeAll(async () => {
  if (!pgReady) return
  cluster = await startPgCluster(2)
  await cluster.primary.admin.query(
    'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)',
  )
  // The table must exist on every replica before any read goes there: on a loaded machine a
  // replica can replay the CREATE TABLE after the first test's first read.
  for (const replica of cluster.replicas) {
    const deadline = Date.now() + 30_000
    while ((await replica.admin.query("SELECT to_regclass('items') AS t")).rows[0].t === null) {
      if (Date.now() > deadline) throw new Error('a replica never replayed CREATE TABLE items')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  // Replicas apply WAL 300 ms late: in rotation (lag bound 5 s), but a read right after a write
  // misses it unless it goes to the primary.
  for (const replica of cluster.replicas) {
    await replica.admin.query("ALTER SYSTEM SET recovery_min_apply_delay = '300ms'")
    await replica.admin.query('SELECT pg_reload_conf()')
  }
  db = createReplicaSet({
    kind: 'pg',
    nodes: cluster.servers.map((server) => server.pool({ max: 10 })),
    intervalMs: 200,
    logger: false,
  })
  await db.refresh()
}, 60_000)
afterAll(async () => {
  db?.close()
  await cluster?.close()
})

describe.runIf(pgReady).each([
  ['express', startExpress],
  ['fastify', startFastify],
] as const)('read-after-write through %s', (_name, start) => {
  it('misses fresh writes from replicas when the client drops the cookie (the control)', async () => {
    const url = await start(db)
    const misses = await anomalies(url, 20, 1, false)
    expect(misses.stale).toBeGreaterThan(0)
    expect({ ...misses, stale: 0 }).toEqual(NONE)
  })

  it('sets a signed, HttpOnly cookie on a write, and ignores a forged one', async () => {
    const url = await start(db)
    const write = await fetch(`${url}/items`, {
      method: 'POST',
      body: '{"name":"x"}',
      headers: { 'content-type': 'application/json' },
    })
    const { id } = (await write.json()) as { id: number }
    expect(write.status).toBe(200)
    expect(write.headers.getSetCookie()).toEqual([
      expect.stringMatching(
        /^uptimekit_wrote=\d+\.[\w-]{43}; Max-Age=2; Path=\/; HttpOnly; SameSite=Lax$/,
      ),
    ])
    const forged = `uptimekit_wrote=${Date.now()}.${'A'.repeat(43)}`
    const read = await fetch(`${url}/items/${id}`, { headers: { cookie: forged } })
    expect(read.status).toBe(404)
  })

  it('has 0 read-after-write anomalies over 10,000 write-then-read iterations', async () => {
    const url = await start(db)
    const before = db.snapshot()
    expect(await anomalies(url, 10_000, 20, true)).toEqual(NONE)
    // The reads really were served: by the primary, while the replicas stayed in rotation.
    expect(db.snapshot().map((n) => n.state)).toEqual(['serving', 'serving', 'serving'])
    const primaryReads = db.snapshot()[0]!.reads - before[0]!.reads
    expect(primaryReads).toBe(10_000)
    // About 40 s alone; 200 s with both cores of a 2-core machine busy elsewhere.
  }, 600_000)
})
