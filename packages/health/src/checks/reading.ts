import type { Observation } from '../options.js'

/**
 * The IETF reading in a checker's details: the number at `key`, times `scale`, rounded to one
 * decimal; undefined when the details do not hold one.
 */
export function reading(
  details: unknown,
  key: string,
  measurement: string,
  unit: string,
  scale = 1,
): Observation | undefined {
  const value = (details as Record<string, unknown> | null | undefined)?.[key]
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined
  return { measurement, unit, value: Math.round(value * scale * 10) / 10 }
}
