import { STATUS_CODES } from 'node:http'

/**
 * What the core answers to a request; adapters write it out unchanged (status, headers, body),
 * so both frameworks send the same bytes.
 */
export interface HttpAnswer {
  /** HTTP status code. */
  readonly statusCode: number
  /** Response headers, lower-case names; `content-length` included. */
  readonly headers: Readonly<Record<string, string>>
  /** The body, serialized. */
  readonly body: string
}

/**
 * The one error body every uptimekit package answers with (Fastify's own error shape, so a client
 * branches on `code` the same way whichever framework and package answered).
 */
export interface ErrorBody {
  /** The HTTP status code, repeated. */
  readonly statusCode: number
  /** Stable, machine-readable reason, `UPTIMEKIT_<REASON>`. */
  readonly code: string
  /** The status code's reason phrase (`Service Unavailable`). */
  readonly error: string
  /** What happened, for a person; never a secret or a stack trace. */
  readonly message: string
}

const JSON_TYPE = 'application/json; charset=utf-8'

/** An answer with a serialized body, its `content-length` and `content-type` set. */
export function textAnswer(
  statusCode: number,
  body: string,
  contentType: string,
  headers: Readonly<Record<string, string>> = {},
): HttpAnswer {
  return {
    statusCode,
    headers: {
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
    body,
  }
}

/** A JSON answer; `body` is serialized here. */
export function jsonAnswer(
  statusCode: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
  contentType: string = JSON_TYPE,
): HttpAnswer {
  return textAnswer(statusCode, JSON.stringify(body), contentType, headers)
}

/** The house error answer: `{ statusCode, code, error, message }` as JSON. */
export function errorAnswer(
  statusCode: number,
  code: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): HttpAnswer {
  const body: ErrorBody = { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message }
  return jsonAnswer(statusCode, body, headers)
}

/** Writes an answer to a node:http response (what the Express adapters do). */
export function writeAnswer(
  res: {
    writeHead(statusCode: number, headers: Record<string, string>): { end(body: string): unknown }
  },
  answer: HttpAnswer,
): void {
  res.writeHead(answer.statusCode, { ...answer.headers }).end(answer.body)
}
