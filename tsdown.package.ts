import type { UserConfig } from 'tsdown'

/** The build every package shares: its three entries, ESM and CommonJS, per-format types. */
export const packageBuild: UserConfig = {
  entry: ['src/index.ts', 'src/express.ts', 'src/fastify.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  fixedExtension: true,
  target: 'node20',
  publint: true,
  attw: { profile: 'strict', level: 'error' },
  // The Fastify entry exports its plugin both named and as default; say so, so
  // the CommonJS build exports exactly those names and no bundler helper.
  outputOptions: { exports: 'named' },
  // The shared internals are private: each package carries its own copy, so once installed no
  // package depends on another.
  deps: { alwaysBundle: [/^@uptimekit\/internal/] },
}
