import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

// Every TypeScript block in every README compiles under strict TypeScript as written: as an ES
// module (nodenext), through a bundler's resolution, and, for its imports, as CommonJS (node16).

const root = fileURLToPath(new URL('..', import.meta.url))
const work = fileURLToPath(new URL('./snippets/.checked/', import.meta.url))

function readmes(): string[] {
  const found = [join(root, 'README.md'), join(root, 'examples', 'README.md')]
  for (const area of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, area))) {
      const readme = join(root, area, name, 'README.md')
      try {
        readFileSync(readme)
        if (!found.includes(readme)) found.push(readme)
      } catch {
        // no README in this folder
      }
    }
  }
  return found
}

interface Snippet {
  readonly id: string
  readonly source: string
  readonly code: string
}

function snippets(): Snippet[] {
  const all: Snippet[] = []
  for (const readme of readmes()) {
    const text = readFileSync(readme, 'utf8')
    const where = relative(root, readme)
    let index = 0
    for (const match of text.matchAll(/^```(ts|typescript)\n([\s\S]*?)^```$/gm)) {
      index++
      const code = match[2]!
      if (/^\s*\/\/ not compiled/.test(code)) continue
      const line = text.slice(0, match.index).split('\n').length
      all.push({ id: `${where.replace(/[/.]/g, '_')}_${index}`, source: `${where}:${line}`, code })
    }
  }
  return all
}

const IMPORT = /^import\s+(?:type\s+)?[\s\S]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm

/** The CommonJS check: the snippet's imports alone, each name used, in a .cts file. */
function importsOnly(code: string): string {
  const lines: string[] = []
  for (const match of code.matchAll(IMPORT)) lines.push(match[0])
  return `${lines.join('\n')}\nexport {}\n`
}

const CONFIGS = {
  esm: { module: 'nodenext', moduleResolution: 'nodenext', extension: 'mts', whole: true },
  bundler: { module: 'preserve', moduleResolution: 'bundler', extension: 'ts', whole: true },
  cjs: { module: 'node16', moduleResolution: 'node16', extension: 'cts', whole: false },
} as const

function typecheck(kind: keyof typeof CONFIGS, list: Snippet[]): Map<string, string> {
  const config = CONFIGS[kind]
  const dir = join(work, kind)
  mkdirSync(dir, { recursive: true })
  for (const snippet of list) {
    const body = config.whole ? `${snippet.code}\nexport {}\n` : importsOnly(snippet.code)
    writeFileSync(join(dir, `${snippet.id}.${config.extension}`), body)
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'DOM'],
        module: config.module,
        moduleResolution: config.moduleResolution,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        verbatimModuleSyntax: false,
        esModuleInterop: true,
      },
      include: ['*'],
    }),
  )
  let output = ''
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
      encoding: 'utf8',
    })
  } catch (error) {
    output = (error as { stdout?: string }).stdout ?? String(error)
  }
  const errors = new Map<string, string>()
  for (const line of output.split('\n')) {
    const file = /([^/(]+)\.(?:mts|cts|ts)\(\d+,\d+\): error/.exec(line)?.[1]
    if (file === undefined) continue
    errors.set(file, `${errors.get(file) ?? ''}${line}\n`)
  }
  return errors
}

const list = snippets()
const results = Object.fromEntries(
  (Object.keys(CONFIGS) as (keyof typeof CONFIGS)[]).map((kind) => [kind, typecheck(kind, list)]),
)
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('README TypeScript snippets compile as written', () => {
  it('finds the snippets of every package README', () => {
    expect(list.length).toBeGreaterThan(10)
  })

  it.each(list.map((snippet) => [snippet.source, snippet] as const))('%s', (_source, snippet) => {
    const failures = Object.entries(results)
      .map(([kind, errors]) => [kind, errors.get(snippet.id)] as const)
      .filter(([, errors]) => errors !== undefined)
      .map(([kind, errors]) => `${kind}:\n${errors}`)
    expect(failures.join('\n')).toBe('')
  })
})
