import { connect } from 'node:net'

/** A service on this machine that some tests talk to over a real connection. */
interface Service {
  readonly label: string
  readonly url: string
  readonly howToStart: string
}

/** Connection URLs come from the environment, with the machine's local services as defaults. */
export const SERVICES = {
  redis: {
    label: 'Redis',
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    howToStart: 'redis-server --daemonize yes --port 6379 --save "" (or set REDIS_URL)',
  },
  postgres: {
    label: 'PostgreSQL',
    url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    howToStart:
      'pg_ctlcluster <version> main start, trust auth, database `test` (or set DATABASE_URL)',
  },
  mariadb: {
    label: 'MariaDB/MySQL',
    url: process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
    howToStart:
      'start mariadbd with root and an empty password, database `test` (or set MYSQL_URL)',
  },
} as const satisfies Record<string, Service>

export type ServiceName = keyof typeof SERVICES

function tcpReachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) })
    const done = (up: boolean): void => {
      socket.destroy()
      resolve(up)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Whether the tests that need `name` can run. In CI (`CI=true`) a missing
 * service fails the run with how to start it; on a laptop those tests are
 * skipped with one loud line naming the service, never silently.
 */
export async function needService(name: ServiceName): Promise<boolean> {
  const service = SERVICES[name]
  if (await tcpReachable(service.url)) return true
  const where = new URL(service.url).host
  if (process.env.CI === 'true') {
    throw new Error(
      `${service.label} is not reachable at ${where}; start it: ${service.howToStart}`,
    )
  }
  console.warn(
    `\n!!! ${service.label} is not reachable at ${where}: its tests are SKIPPED. Start it: ${service.howToStart}\n`,
  )
  return false
}
