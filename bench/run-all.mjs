// Runs the package benchmarks (bench/<package>.mjs) one after another, so no two compete for the
// CPU, and writes their tables into bench/RESULTS.md with the commit and machine they were
// measured on. `node run-all.mjs metrics` re-runs only the named ones and keeps the other
// sections of RESULTS.md as they were, each still saying when it was measured.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const resultsFile = new URL('./RESULTS.md', import.meta.url)
const order = ['health', 'shutdown', 'metrics', 'breaker', 'session']
const available = new Set(readdirSync(here).filter((file) => file.endsWith('.mjs')))
const requested = process.argv.slice(2)
for (const name of requested) {
  if (!order.includes(name))
    throw new Error(`no benchmark named ${name}; one of ${order.join(', ')}`)
}
const benches = order.filter(
  (name) => available.has(`${name}.mjs`) && (requested.length === 0 || requested.includes(name)),
)

const gitCommit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: here,
      encoding: 'utf8',
    }).trim()
  } catch {
    return 'unknown'
  }
})()
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`

/** The sections of the current RESULTS.md by benchmark name, to keep the ones not re-run. */
function previousSections() {
  const kept = new Map()
  if (!existsSync(resultsFile)) return kept
  const text = readFileSync(resultsFile, 'utf8')
  for (const part of text.split(/^(?=## @uptimekit\/)/m).slice(1)) {
    const name = /^## @uptimekit\/(\w+)/.exec(part)?.[1]
    if (name !== undefined) kept.set(name, part.trimEnd() + '\n')
  }
  return kept
}

const sections = previousSections()
for (const name of benches) {
  process.stdout.write(`\n## ${name}\n`)
  const run = spawnSync(process.execPath, [`${name}.mjs`], {
    cwd: here,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 60 * 60_000,
  })
  process.stdout.write(run.stdout ?? '')
  const outcome =
    run.status === 0 ? run.stdout.trim() : `Failed (exit ${run.status}):\n\n${run.stdout}`
  const measured = `Command: \`node bench/${name}.mjs\`, measured at commit ${gitCommit} on ${new Date().toISOString().slice(0, 10)} (${machine}).`
  sections.set(name, `## @uptimekit/${name}\n\n${measured}\n\n${outcome}\n`)
}

const header = [
  '# Benchmarks',
  '',
  'Written by `pnpm bench` (bench/run-all.mjs); each section names the commit and machine it was measured on.',
  'Every table compares libraries measured side by side in one run; read the ratios, not the absolute figures.',
  '',
]
const body = order.filter((name) => sections.has(name)).map((name) => sections.get(name))
writeFileSync(resultsFile, [...header, ...body].join('\n'))
process.stdout.write('\nwrote bench/RESULTS.md\n')
