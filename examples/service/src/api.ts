// The API's behaviour, framework-free: each function takes plain input and
// returns { statusCode, body } (and, for login, the session data to store).
// app.ts in each example only moves requests in and answers out, so Express
// and Fastify answer exactly the same.
import { STATUS_CODES } from 'node:http'
import { isSessionUnavailableError } from '@uptimekit/session'
import { PaymentsError, type Charge } from './payments-client.js'
import type { PublicUser, Users } from './users.js'

const ID = /^[1-9]\d{0,8}$/
const CURRENCY = /^[A-Z]{3}$/
const MAX_AMOUNT = 100_000_000

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** What a route answers; the examples' app.ts writes it out unchanged. */
export interface ApiAnswer {
  statusCode: number
  headers?: Record<string, string>
  body: unknown
}

/** What a login stores in a fresh session. */
export interface LoginSession {
  user: PublicUser
  loginAt: string
}

/** The API's behaviour, route by route. */
export interface Api {
  getUser(rawId: string): Promise<ApiAnswer>
  login(body: unknown): Promise<ApiAnswer & { session?: LoginSession }>
  profile(user: PublicUser | undefined, loginAt: string | undefined): ApiAnswer
  pay(body: unknown): Promise<ApiAnswer>
}

/** Builds the API over the users and the payment client. */
export function createApi({ users, charge }: { users: Users; charge: Charge }): Api {
  return {
    /** GET /api/users/:id */
    async getUser(rawId) {
      if (!ID.test(rawId)) {
        return {
          statusCode: 400,
          body: { error: `id must be a positive integer (got ${JSON.stringify(rawId)})` },
        }
      }
      const user = await users.findById(Number(rawId))
      return user === undefined
        ? { statusCode: 404, body: { error: `user ${rawId} not found` } }
        : { statusCode: 200, body: user }
    },

    /** POST /api/login: on success, `session` is what to store in a fresh session. */
    async login(body) {
      if (
        !isObject(body) ||
        typeof body.username !== 'string' ||
        typeof body.password !== 'string'
      ) {
        return {
          statusCode: 400,
          body: { error: 'send JSON {"username": string, "password": string}' },
        }
      }
      const user = await users.verifyLogin(body.username, body.password)
      if (user === undefined)
        return { statusCode: 401, body: { error: 'wrong username or password' } }
      const session: LoginSession = { user, loginAt: new Date().toISOString() }
      return { statusCode: 200, body: session, session }
    },

    /** GET /api/profile, given the session's stored `user` and `loginAt` (or undefined). */
    profile(user, loginAt) {
      return user === undefined
        ? { statusCode: 401, body: { error: 'not logged in' } }
        : { statusCode: 200, body: { user, loginAt } }
    },

    /** POST /api/payments: 201, 400, or 502/504 when the upstream fails (the guard counts those). */
    async pay(body) {
      if (
        !isObject(body) ||
        typeof body.amount !== 'number' ||
        !Number.isInteger(body.amount) ||
        body.amount < 1 ||
        body.amount > MAX_AMOUNT ||
        typeof body.currency !== 'string' ||
        !CURRENCY.test(body.currency)
      ) {
        return {
          statusCode: 400,
          body: {
            error: `send JSON {"amount": integer cents from 1 to ${MAX_AMOUNT}, "currency": "EUR"}`,
          },
        }
      }
      try {
        const payment = await charge({ amount: body.amount, currency: body.currency })
        return { statusCode: 201, body: payment }
      } catch (error) {
        if (error instanceof PaymentsError) {
          return { statusCode: error.statusCode, body: { error: error.message } }
        }
        throw error
      }
    },
  }
}

/**
 * The answer to a request that failed outside a route's own logic (a body
 * that is not JSON or too large, the session store down, a bug), the same
 * from both frameworks.
 *
 * @param error - what the framework caught
 * @param statusCode - the status the framework chose for it, if any
 */
export function errorAnswer(error: unknown, statusCode: number | undefined): ApiAnswer {
  if (isSessionUnavailableError(error)) {
    // The body @uptimekit/session answers with when it meets the outage
    // itself, so clients see one shape whichever step found Redis down.
    return {
      statusCode: 503,
      headers: { 'retry-after': '1', 'cache-control': 'no-store' },
      body: {
        statusCode: 503,
        code: error.code,
        error: 'Service Unavailable',
        message: 'The session store is unavailable; retry in 1 s',
      },
    }
  }
  if (statusCode === 400) return { statusCode, body: { error: 'the body is not valid JSON' } }
  if (statusCode === 413) return { statusCode, body: { error: 'the body is larger than 16 KB' } }
  if (statusCode === 415)
    return { statusCode, body: { error: 'send the body as application/json' } }
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    return { statusCode, body: { error: STATUS_CODES[statusCode] ?? 'bad request' } }
  }
  return { statusCode: 500, body: { error: 'internal error' } }
}
