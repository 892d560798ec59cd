// Runs every package benchmark (bench/<package>.mjs) one after another, so no
// two compete for the CPU, and collects their tables into bench/RESULTS.md
// with the machine and versions they were measured on.
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const order = ['health', 'shutdown', 'metrics', 'breaker', 'session']
const available = new Set(readdirSync(here).filter((file) => file.endsWith('.mjs')))
const benches = order.filter((name) => available.has(`${name}.mjs`))

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

const sections = []
for (const name of benches) {
  process.stdout.write(`\n## ${name}\n`)
  const run = spawnSync(process.execPath, [`${name}.mjs`], {
    cwd: here,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 10 * 60_000,
  })
  process.stdout.write(run.stdout ?? '')
  const outcome =
    run.status === 0 ? run.stdout.trim() : `Failed (exit ${run.status}):\n\n${run.stdout}`
  sections.push(`## @uptimekit/${name}\n\nCommand: \`node bench/${name}.mjs\`\n\n${outcome}\n`)
}

const cpu = cpus()[0]?.model ?? 'unknown CPU'
const header = [
  '# Benchmarks',
  '',
  `Written by \`pnpm bench\` (bench/run-all.mjs) at commit ${gitCommit}, ${new Date().toISOString().slice(0, 10)}.`,
  `Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}.`,
  'Every table compares libraries measured side by side in one run; read the ratios, not the absolute figures.',
  '',
]
writeFileSync(new URL('./RESULTS.md', import.meta.url), [...header, ...sections].join('\n'))
process.stdout.write('\nwrote bench/RESULTS.md\n')
