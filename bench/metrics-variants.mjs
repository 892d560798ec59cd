// The servers both request-metrics benchmarks compare (metrics.mjs builds them with `--serve
// <framework> <kind>`): bare, a second bare process as the noise floor, an empty hook or
// middleware as the floor of any library that measures from one, ours, and the peer.
export const FRAMEWORKS = [
  ['fastify', 'Fastify', 'an empty onRequest hook', 'fastify-metrics'],
  ['express', 'Express', 'an empty middleware', 'express-prom-bundle'],
].map(([name, title, floor, peer]) => ({
  name,
  variants: [
    ['bare', `${title} bare`],
    ['control', `${title} bare, a second process (noise floor)`],
    ['floor', `${title} + ${floor}`],
    ['ours', `${title} + @uptimekit/metrics`],
    ['peer', `${title} + ${peer}`],
  ],
}))
