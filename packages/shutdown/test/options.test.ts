import { createServer } from 'node:http'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError, isInvalidOptionError } from '../src/errors.js'
import { DEFAULTS, type ShutdownOptions } from '../src/options.js'
import { createShutdown } from '../src/shutdown.js'

const server = createServer()

const bad: [string, ShutdownOptions, string][] = [
  [
    'a negative drain delay',
    { drainDelayMs: -5 },
    '`drainDelayMs` must be an integer of milliseconds from 0 to 2147483647 (got -5)',
  ],
  [
    'a string delay',
    { drainDelayMs: '5000' as unknown as number },
    '`drainDelayMs` must be an integer of milliseconds from 0 to 2147483647 (got "5000")',
  ],
  [
    'a zero timeout',
    { timeoutMs: 0 },
    '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 0)',
  ],
  [
    'a fractional timeout',
    { timeoutMs: 1.5 },
    '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 1.5)',
  ],
  [
    'a timeout past what a timer can wait (it would fire at once)',
    { timeoutMs: 3e9 },
    '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 3000000000)',
  ],
  [
    'a mistyped option',
    { drainDelay: 100 } as ShutdownOptions,
    '`drainDelay` is not an option of createShutdown; did you mean `drainDelayMs`? (options: readiness, drainDelayMs, timeoutMs, hookTimeoutMs, signals, logger, exit) (got 100)',
  ],
  [
    'a timeout shorter than the drain delay',
    { drainDelayMs: 5000, timeoutMs: 1000 },
    '`timeoutMs` must be greater than `drainDelayMs` (5000), which it includes (got 1000)',
  ],
  [
    'a NaN hook timeout',
    { hookTimeoutMs: Number.NaN },
    '`hookTimeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got NaN)',
  ],
  [
    'signals as a string',
    { signals: 'SIGTERM' as unknown as NodeJS.Signals[] },
    '`signals` must be an array of signal names like "SIGTERM" (got "SIGTERM")',
  ],
  [
    'readiness without markNotReady',
    { readiness: {} as never },
    '`readiness` must have a `markNotReady(reason)` method (got an object)',
  ],
  [
    'a logger without warn',
    { logger: { info() {}, error() {} } as never },
    '`logger` must be false or have info, warn and error methods (pino-shaped) (got an object)',
  ],
  ['exit as a string', { exit: 'no' as unknown as boolean }, '`exit` must be a boolean (got "no")'],
]

describe('createShutdown options', () => {
  it.each(bad)('rejects %s at creation, naming the option', (_name, options, message) => {
    let caught: unknown
    try {
      createShutdown(server, { signals: [], ...options })
    } catch (err) {
      caught = err
    }
    expect(caught).toBeInstanceOf(TypeError)
    expect(caught).toMatchObject({
      name: 'InvalidOptionError',
      code: 'UPTIMEKIT_INVALID_OPTION',
      message,
    })
    expect(isInvalidOptionError(caught)).toBe(true)
  })

  it('rejects something that is not a server, such as the Express app itself', () => {
    const app = (): void => {}
    expect(() => createShutdown(app as never)).toThrow(
      new InvalidOptionError(
        'server',
        'must be a node:http, node:https or node:http2 server, such as what app.listen() returns',
        'function',
      ),
    )
  })

  it('rejects a bad close hook at onClose()', () => {
    const shutdown = createShutdown(server, { signals: [] })
    expect(() => shutdown.onClose('', () => {})).toThrow(
      '`name` must be a non-empty string (got "")',
    )
    expect(() => shutdown.onClose('db', 'quit' as never)).toThrow(
      '`fn` must be a function (got "quit")',
    )
    expect(() => shutdown.onClose('db', () => {}, { timeoutMs: -1 })).toThrow(
      '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got -1)',
    )
    shutdown.dispose()
  })

  it('freezes DEFAULTS, the signal list included', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true)
    expect(Object.isFrozen(DEFAULTS.signals)).toBe(true)
    expect(() => (DEFAULTS.signals as NodeJS.Signals[]).push('SIGHUP')).toThrow(TypeError)
  })

  it('tells its errors apart from others by code', () => {
    expect(isInvalidOptionError(new TypeError('x'))).toBe(false)
    expect(isInvalidOptionError({ code: 'UPTIMEKIT_INVALID_OPTION' })).toBe(true)
    expect(isInvalidOptionError(null)).toBe(false)
  })
})
