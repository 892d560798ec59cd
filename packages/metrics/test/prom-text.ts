/** One parsed sample line of the Prometheus / OpenMetrics text format. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

/** Parses every sample line of an exposition text (comments skipped). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = LINE.exec(line)
    if (match === null) throw new Error(`unparsable line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, name, value] of (match[2] ?? '').matchAll(LABEL)) labels[name!] = value!
    const raw = match[3]!
    out.push({ name: match[1]!, labels, value: raw === '+Inf' ? Infinity : Number(raw) })
  }
  return out
}

/** Samples of one name, optionally only those whose labels include `where`. */
export function samplesOf(
  text: string,
  name: string,
  where: Record<string, string> = {},
): Sample[] {
  return parseSamples(text).filter(
    (s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v),
  )
}

/** The value of the one sample with exactly these labels, or undefined. */
export function valueOf(
  text: string,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const keys = Object.keys(labels).sort().join()
  const found = samplesOf(text, name, labels).filter(
    (s) => Object.keys(s.labels).sort().join() === keys,
  )
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match`)
  return found[0]?.value
}

/** `[route, status_code, value]` of every sample of a request metric, in exposition order. */
export function routeCounts(
  text: string,
  name = 'http_requests_total',
): [string, string, number][] {
  return samplesOf(text, name).map((s) => [s.labels.route!, s.labels.status_code!, s.value])
}
