import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../src/options.js'
import { HTTP_CHECK_DEFAULTS } from '../src/checks/http.js'
import { HEAP_CHECK_DEFAULTS } from '../src/checks/heap.js'
import { EVENT_LOOP_CHECK_DEFAULTS } from '../src/checks/event-loop.js'
import { createHealth } from '../src/health.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The cells of the options table row for `name`. */
function optionRow(name: string): string[] | undefined {
  const line = readme.split('\n').find((row) => row.startsWith(`| \`${name}\``))
  return line?.split(/(?<!\\)\|/).map((cell) => cell.trim())
}

describe('the README', () => {
  it('has a row for every option createHealth takes, and no other', () => {
    const rows = readme
      .slice(readme.indexOf('## Options'), readme.indexOf('## Errors'))
      .split('\n')
      .map((row) => /^\| `(\w+)`/.exec(row)?.[1])
      .filter((name) => name !== undefined)
    const message = (() => {
      try {
        createHealth({ unknown: 1 } as never)
      } catch (error) {
        return (error as Error).message
      }
      return ''
    })()
    const known = /options: ([\w, ]+)\)/.exec(message)?.[1]?.split(', ')
    expect(rows.sort()).toEqual(known?.sort())
  })

  it('states the defaults DEFAULTS holds', () => {
    expect(optionRow('timeoutMs')?.[3]).toBe(`\`${DEFAULTS.timeoutMs}\``)
    expect(optionRow('cacheMs')?.[3]).toBe(`\`${DEFAULTS.cacheMs}\``)
    expect(optionRow('intervalMs')?.[3]).toBe(`\`${DEFAULTS.intervalMs}\` (off)`)
    expect(optionRow('startup')?.[3]).toBe(`\`'${DEFAULTS.startup}'\``)
    expect(optionRow('exposeDetails')?.[3]).toBe(`\`${DEFAULTS.exposeDetails}\``)
    expect(optionRow('paths')?.[3]).toBe(
      Object.values(DEFAULTS.paths)
        .map((path) => `\`${path}\``)
        .join(', '),
    )
    expect(readme).toContain(`own timeout (default ${HTTP_CHECK_DEFAULTS.timeoutMs} ms)`)
    expect(readme).toContain(`(default max ${HEAP_CHECK_DEFAULTS.maxUsedRatio})`)
    const { maxDelayMs, percentile, resolutionMs } = EVENT_LOOP_CHECK_DEFAULTS
    expect(readme).toContain(`(defaults ${maxDelayMs} ms, p${percentile}, ${resolutionMs} ms)`)
    expect(readme).toContain(`\`timeoutMs\` ${DEFAULTS.timeoutMs}, below the kubelet's default`)
  })

  it('shows the bodies the probes answer', async () => {
    const health = createHealth({ startup: 'manual', logger: false, exposeDetails: false })
    const bodies = [
      (await health.answer('live')).body,
      (await health.answer('startup')).body,
      (await health.answer('ready')).body,
      (await health.answer('detailed')).body,
    ]
    health.markStarted()
    bodies.push((await health.answer('startup')).body, (await health.answer('ready')).body)
    health.markNotReady('shutting down')
    bodies.push((await health.answer('ready')).body)
    const shown = readme
      .replace(/\s+/g, ' ')
      .replace(/([{[,:]) /g, '$1')
      .replace(/ ([}\]])/g, '$1')
    for (const body of bodies) expect(shown).toContain(body)
  })
})
