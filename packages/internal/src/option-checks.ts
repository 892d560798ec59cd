import { closestName } from './closest-name.js'
import { InvalidOptionError } from './errors.js'
import { shown } from './shown.js'

/** Node fires a timer at once when its delay is past this (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647

/** Checks that an option is a plain object (not null, not an array) and returns it. */
export function plainObject(option: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(option, 'must be an object', shown(value))
  }
  return value as Record<string, unknown>
}

/**
 * Checks an options object: `undefined` reads as `{}`, anything else must be a plain object whose
 * keys are all in `known`. An unknown key is rejected with the closest real option, because a
 * typo (`tokne` for `token`) otherwise silently turns a safeguard off.
 *
 * @param owner - what takes the options, as the user calls it (`createMetrics`, `passive`)
 * @param prefix - prepended to key names in messages, for nested objects (`passive.`)
 */
export function optionsObject(
  owner: string,
  value: unknown,
  known: readonly string[],
  prefix = '',
): Record<string, unknown> {
  if (value === undefined) return {}
  const options = plainObject(prefix === '' ? 'options' : prefix.slice(0, -1), value)
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue
    const guess = closestName(key, known)
    const hint = guess === undefined ? '' : `; did you mean \`${prefix}${guess}\`?`
    throw new InvalidOptionError(
      `${prefix}${key}`,
      `is not an option of ${owner}${hint} (options: ${known.join(', ')})`,
      shown(options[key]),
    )
  }
  return options
}

/** Bounds of a numeric option; `above` is an exclusive lower bound. */
export interface NumberBounds {
  /** Smallest allowed value, inclusive. */
  min?: number
  /** Largest allowed value, inclusive. */
  max?: number
  /** The value must be greater than this. */
  above?: number
}

function ruleOf(kind: string, bounds: NumberBounds): string {
  const parts: string[] = []
  if (bounds.above !== undefined) parts.push(`above ${bounds.above}`)
  if (bounds.min !== undefined) parts.push(`at least ${bounds.min}`)
  if (bounds.max !== undefined) parts.push(`at most ${bounds.max}`)
  return `must be ${kind}${parts.length === 0 ? '' : ` ${parts.join(' and ')}`}`
}

function inBounds(value: number, bounds: NumberBounds): boolean {
  return (
    (bounds.min === undefined || value >= bounds.min) &&
    (bounds.max === undefined || value <= bounds.max) &&
    (bounds.above === undefined || value > bounds.above)
  )
}

/** Checks a finite number within `bounds`. */
export function finiteNumber(option: string, value: unknown, bounds: NumberBounds = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !inBounds(value, bounds)) {
    throw new InvalidOptionError(option, ruleOf('a finite number', bounds), shown(value))
  }
  return value
}

/** Checks an integer within `bounds`. */
export function integer(option: string, value: unknown, bounds: NumberBounds = {}): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || !inBounds(value, bounds)) {
    throw new InvalidOptionError(option, ruleOf('an integer', bounds), shown(value))
  }
  return value
}

/**
 * Checks a duration in milliseconds that will be given to a timer: an integer from `min` (1 by
 * default) to {@link MAX_TIMER_MS}, so no delay can wrap around and fire at once.
 */
export function milliseconds(option: string, value: unknown, min = 1): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < min ||
    value > MAX_TIMER_MS
  ) {
    const rule = `must be an integer of milliseconds from ${min} to ${MAX_TIMER_MS}`
    throw new InvalidOptionError(option, rule, shown(value))
  }
  return value
}

/** Checks a ratio: a number above 0 and at most 1 (or from 0 when `zero` is allowed). */
export function ratio(option: string, value: unknown, zero = false): number {
  if (typeof value !== 'number' || !(zero ? value >= 0 : value > 0) || !(value <= 1)) {
    const rule = `must be a number ${zero ? 'from 0' : 'above 0'} and at most 1`
    throw new InvalidOptionError(option, rule, shown(value))
  }
  return value
}

/** Checks a boolean. */
export function bool(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidOptionError(option, 'must be a boolean', shown(value))
  }
  return value
}

/** Checks a string, non-empty unless `empty` is allowed. */
export function text(option: string, value: unknown, empty = false): string {
  if (typeof value !== 'string' || (!empty && value === '')) {
    throw new InvalidOptionError(
      option,
      `must be a${empty ? '' : ' non-empty'} string`,
      shown(value),
    )
  }
  return value
}

/** Checks that a value is one of `choices`. */
export function oneOf<T extends string | number | boolean>(
  option: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (!choices.includes(value as T)) {
    const listed = choices.map((choice) =>
      typeof choice === 'string' ? `'${choice}'` : `${choice}`,
    )
    throw new InvalidOptionError(option, `must be one of ${listed.join(', ')}`, shown(value))
  }
  return value as T
}

/** Checks a function. */
export function func<T extends (...args: never[]) => unknown>(option: string, value: unknown): T {
  if (typeof value !== 'function') {
    throw new InvalidOptionError(option, 'must be a function', shown(value))
  }
  return value as T
}

/**
 * Checks that a client (a driver's pool, a Redis connection) has the methods we call; `rule`
 * says what was expected, e.g. `must be an ioredis or node-redis client`.
 */
export function withMethods<T>(
  option: string,
  value: unknown,
  methods: readonly string[],
  rule: string,
): T {
  const shaped = value as Record<string, unknown> | null
  const ok =
    (typeof shaped === 'object' || typeof shaped === 'function') &&
    shaped !== null &&
    methods.every((method) => typeof shaped[method] === 'function')
  if (!ok) throw new InvalidOptionError(option, rule, shown(value))
  return value as T
}

/**
 * Checks a secret string of at least `minLength` characters. Messages give its shape (how many
 * characters), never its value.
 */
export function secret(option: string, value: unknown, minLength: number): string {
  if (typeof value !== 'string' || value.length < minLength) {
    const got = typeof value === 'string' ? `${value.length} characters` : shown(value)
    throw new InvalidOptionError(
      option,
      `must be a string of at least ${minLength} characters`,
      got,
    )
  }
  return value
}

/** Runs `check` on a value that was given; `undefined` stays `undefined`. */
export function optional<T>(value: unknown, check: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : check(value)
}
