import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { needService } from './support/services.js'

// What a user gets from the registry: each package packed as it would be published, installed
// with plain npm (no workspace, no pnpm) into an empty project beside the peers it asks for.

const root = fileURLToPath(new URL('..', import.meta.url))
const redisUp = await needService('redis')

interface Manifest {
  name: string
  private?: boolean
  license?: string
  repository?: unknown
  peerDependencies?: Record<string, string>
  exports: Record<string, unknown>
}

const publishable = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: JSON.parse(
      readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'),
    ) as Manifest,
  }))
  .filter(({ manifest }) => manifest.private !== true)

const scratch = mkdtempSync(join(tmpdir(), 'uptimekit-tarballs-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const run = (command: string, args: string[], cwd: string): string =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

const tarballs = publishable.map(({ dir }) => {
  const packed = run('npm', ['pack', '--json', '--pack-destination', scratch], dir)
  const [{ filename, files }] = JSON.parse(packed) as [
    { filename: string; files: { path: string }[] },
  ]
  return { path: join(scratch, filename), files: files.map((file) => file.path) }
})

// Every peer any package names, at the range it names, as a user would add them.
const peers = new Map<string, string>()
for (const { manifest } of publishable) {
  for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
    peers.set(name, range.split('||').at(-1)!.trim())
  }
}

writeFileSync(
  join(scratch, 'package.json'),
  JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
)
run(
  'npm',
  [
    'install',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...tarballs.map((tarball) => tarball.path),
    ...[...peers].map(([name, range]) => `${name}@${range}`),
    'undici@7',
  ],
  scratch,
)
copyFileSync(join(root, 'test/fixtures/tarball-smoke.mjs'), join(scratch, 'smoke.mjs'))
const names = publishable.map(({ manifest }) => manifest.name)
const report = JSON.parse(run(process.execPath, ['smoke.mjs', JSON.stringify(names)], scratch)) as {
  entries: Record<string, { esm: string[]; cjs: string[] }>
  dependsOnSibling: Record<string, string[]>
  served: Record<string, number[] | string>
}

describe.runIf(redisUp)('the packed tarballs, installed with plain npm', () => {
  it.each(tarballs.map((tarball, i) => [names[i]!, tarball] as const))(
    '%s ships its build, README and LICENSE and nothing private',
    (_name, tarball) => {
      expect(tarball.files).toEqual(
        expect.arrayContaining(['LICENSE', 'README.md', 'package.json']),
      )
      expect(
        tarball.files.filter((file) => !/^(dist\/|LICENSE$|README\.md$|package\.json$)/.test(file)),
      ).toEqual([])
    },
  )

  it.each(publishable.map(({ dir, manifest }) => [manifest.name, dir] as const))(
    '%s has a README whose links all work from the registry page (no link into the repository)',
    (_name, dir) => {
      const readme = readFileSync(join(dir, 'README.md'), 'utf8')
      const relative = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
        .map((match) => match[1]!)
        .filter((target) => !/^(https?:|mailto:|#)/.test(target))
      expect(relative).toEqual([])
    },
  )

  it.each(publishable.map(({ manifest }) => [manifest.name, manifest] as const))(
    '%s says where it comes from',
    (_name, manifest) => {
      expect(manifest.license).toBe('MIT')
      expect(manifest.repository).toBeDefined()
    },
  )

  it.each(names)('%s depends on no other uptimekit package', (name) => {
    expect(report.dependsOnSibling[name]).toEqual([])
  })

  it.each(Object.keys(report.entries))(
    '%s loads through import() and require() alike',
    (specifier) => {
      const { esm, cjs } = report.entries[specifier]!
      expect(esm.length).toBeGreaterThan(0)
      expect(cjs).toEqual(esm)
    },
  )

  // @uptimekit/replicas needs a database cluster to serve from; its own tests start one.
  it.each(names.filter((name) => name !== '@uptimekit/replicas'))('%s serves a request', (name) => {
    const statuses = report.served[name]
    expect(Array.isArray(statuses) && statuses.length > 0).toBe(true)
    expect(statuses).toEqual((statuses as number[]).map(() => 200))
  })
})
