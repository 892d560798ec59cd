import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it, onTestFinished } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url))

/** The README's code blocks of one language, in order. */
async function blocks(lang: string): Promise<string[]> {
  const readme = await readFile(join(root, 'README.md'), 'utf8')
  return [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map(
    (match) => match[1] as string,
  )
}

/** Type-checks files in a scratch directory inside the package, so its node_modules resolve. */
async function typeCheck(files: Record<string, string>, compilerOptions: object): Promise<string> {
  const dir = await mkdtemp(join(root, '.readme-check-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: 'ES2022',
      types: ['node'],
      ...compilerOptions,
    },
    include: ['*'],
  }
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(config))
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', dir])
    return ''
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? String(err)
  }
}

// The TypeScript blocks are checked with every other README's by the root
// test/readme-snippets.test.ts; the CommonJS block (```js) is this package's own.
describe('README CommonJS snippet', () => {
  it('compiles under node16 with checkJs', async () => {
    const snippets = await blocks('js')
    expect(snippets.length).toBe(1)
    const files = Object.fromEntries(snippets.map((text, index) => [`snippet-${index}.cjs`, text]))
    const options = { module: 'node16', moduleResolution: 'node16', allowJs: true, checkJs: true }
    expect(await typeCheck(files, options)).toBe('')
  }, 120_000)
})
