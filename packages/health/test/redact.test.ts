import { describe, expect, it } from 'vitest'
import { errorText, redact } from '../src/redact.js'

describe('redact', () => {
  it.each([
    [
      'connect postgres://app:s3cret@db:5432/app failed',
      'connect postgres://app:***@db:5432/app failed',
    ],
    [
      'mongodb+srv://admin:p%40ss@cluster0.example.net/db',
      'mongodb+srv://admin:***@cluster0.example.net/db',
    ],
    ['redis://:s3cret@cache:6379', 'redis://:***@cache:6379'],
    ['https://ghp_token123@github.com/x', 'https://***@github.com/x'],
    ['request failed {"Authorization":"Bearer s3cret"}', 'request failed {"Authorization":"***"}'],
    ['Authorization: Basic YXBwOnMzY3JldA==', 'Authorization: Basic ***'],
    ['host=db user=app password=s3cret dbname=app', 'host=db user=app password=*** dbname=app'],
    ['{"token":"s3cret","apiKey":"k"}', '{"token":"***","apiKey":"***"}'],
    [
      "Access denied for user 'root'@'localhost' (using password: YES)",
      "Access denied for user 'root'@'localhost' (using password: YES)",
    ],
    ['connect ECONNREFUSED 127.0.0.1:6379', 'connect ECONNREFUSED 127.0.0.1:6379'],
  ])('%s', (input, output) => {
    expect(redact(input)).toBe(output)
  })
})

describe('errorText', () => {
  it('follows causes and redacts them', () => {
    const cause = new Error('connect postgres://app:s3cret@db:5432 refused')
    expect(errorText(new TypeError('fetch failed', { cause }))).toBe(
      'fetch failed: connect postgres://app:***@db:5432 refused',
    )
  })

  it('describes errors without a message and values that are not errors', () => {
    const refused = Object.assign(new Error(''), { code: 'ECONNREFUSED' })
    expect(errorText(new AggregateError([refused, new Error('connect ETIMEDOUT')], ''))).toBe(
      'ECONNREFUSED; connect ETIMEDOUT',
    )
    expect(errorText('plain string')).toBe('plain string')
    expect(errorText({ reason: 'nope' })).toBe('{"reason":"nope"}')
  })
})
