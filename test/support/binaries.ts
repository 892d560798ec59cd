import { spawnSync } from 'node:child_process'

/** A program some end-to-end tests run as a child process. */
interface Binary {
  readonly label: string
  readonly howToInstall: string
}

export const BINARIES = {
  nginx: { label: 'nginx', howToInstall: 'apt-get install -y nginx (.ci/run does this)' },
  haproxy: { label: 'HAProxy', howToInstall: 'apt-get install -y haproxy (.ci/run does this)' },
  promtool: {
    label: 'promtool',
    howToInstall: 'apt-get install -y prometheus, which brings promtool (.ci/run does this)',
  },
  'redis-server': { label: 'redis-server', howToInstall: 'apt-get install -y redis-server' },
  'redis-cli': { label: 'redis-cli', howToInstall: 'apt-get install -y redis-tools' },
  mariadbd: { label: 'mariadbd', howToInstall: 'apt-get install -y mariadb-server' },
  '/usr/lib/postgresql/15/bin/initdb': {
    label: 'PostgreSQL 15 server binaries',
    howToInstall: 'apt-get install -y postgresql-15',
  },
} as const satisfies Record<string, Binary>

export type BinaryName = keyof typeof BINARIES

/**
 * Whether the tests that need the program `name` can run (it is on PATH).
 * Like `needService`: in CI (`CI=true`) a missing program fails the run with
 * how to install it; on a laptop its tests are skipped with one loud line.
 */
export function needBinary(name: BinaryName): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  if (found.status === 0) return true
  const binary = BINARIES[name]
  if (process.env.CI === 'true') {
    throw new Error(`${binary.label} is not on PATH; install it: ${binary.howToInstall}`)
  }
  console.warn(
    `\n!!! ${binary.label} is not on PATH: its tests are SKIPPED. Install it: ${binary.howToInstall}\n`,
  )
  return false
}
