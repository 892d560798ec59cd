/** A one-cookie "browser": sends the cookie it was given and applies Set-Cookie by hand. */
export class Browser {
  cookie: string | undefined
  readonly setCookies: string[][] = []

  constructor(readonly name = 'connect.sid') {}

  /** fetch with our cookie; records every Set-Cookie and keeps the last one for `name`. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.cookie !== undefined) headers.set('cookie', this.cookie)
    const res = await fetch(url, { ...init, headers })
    const setCookies = res.headers.getSetCookie()
    this.setCookies.push(setCookies)
    for (const line of setCookies) {
      const pair = line.split(';')[0] as string
      if (!pair.startsWith(`${this.name}=`)) continue
      const expired = /expires=Thu, 01 Jan 1970/i.test(line) || pair === `${this.name}=`
      this.cookie = expired ? undefined : pair
    }
    return res
  }

  /** {@link fetch}, then the response's JSON body; `post` sends a POST. */
  async json(url: string, { post = false } = {}): Promise<unknown> {
    return (await this.fetch(url, post ? { method: 'POST' } : {})).json()
  }

  /** The signed value inside the cookie, URL-decoded (`s:<sid>.<mac>`). */
  get value(): string | undefined {
    return this.cookie === undefined
      ? undefined
      : decodeURIComponent(this.cookie.split('=')[1] as string)
  }

  /** The session id inside the cookie. */
  get sid(): string | undefined {
    const value = this.value
    return value === undefined ? undefined : value.slice(2, value.lastIndexOf('.'))
  }
}
