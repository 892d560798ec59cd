import { request } from 'node:http'

/** GET over a fresh connection (no keep-alive agent): the body as text. */
export function getFresh(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve(body))
    })
      .on('error', reject)
      .end()
  })
}
