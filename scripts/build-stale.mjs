// Builds the packages whose build is older than their sources, so the demo starts at once when
// nothing changed; `pnpm build` still rebuilds everything.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const packages = join(root, 'packages')

/** The newest (or, with `oldest`, the oldest) modification time of the files under `path`. */
function mtime(path, oldest = false) {
  if (!existsSync(path)) return oldest ? 0 : Infinity
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  const times = readdirSync(path).map((entry) => mtime(join(path, entry), oldest))
  if (times.length === 0) return oldest ? 0 : -Infinity
  return oldest ? Math.min(...times) : Math.max(...times)
}

// Every package's build also depends on the shared internals and the shared build config.
const shared = Math.max(
  mtime(join(packages, 'internal', 'src')),
  mtime(join(root, 'tsdown.package.ts')),
)
const stale = readdirSync(packages).filter((name) => {
  const dir = join(packages, name)
  if (!existsSync(join(dir, 'tsdown.config.ts'))) return false
  const sources = Math.max(
    shared,
    mtime(join(dir, 'src')),
    mtime(join(dir, 'package.json')),
    mtime(join(dir, 'tsdown.config.ts')),
  )
  return mtime(join(dir, 'dist'), true) < sources
})

if (stale.length > 0) {
  const filters = stale.flatMap((name) => ['--filter', `./packages/${name}`])
  const built = spawnSync('npx', ['--yes', 'pnpm@10', ...filters, 'build'], {
    cwd: root,
    stdio: 'inherit',
  })
  process.exitCode = built.status ?? 1
}
