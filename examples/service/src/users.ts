// The users behind GET /api/users/:id and POST /api/login: a Postgres table
// when DATABASE_URL is set, else the same three rows in memory.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keyBytes: number,
) => Promise<Buffer>
const KEY_BYTES = 32

/** The demo accounts; the examples README lists them so you can log in. */
export const SEED_USERS = Object.freeze([
  {
    id: 1,
    username: 'ada',
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    password: 'analytical-engine',
  },
  {
    id: 2,
    username: 'grace',
    name: 'Grace Hopper',
    email: 'grace@example.com',
    password: 'cobol-1959',
  },
  {
    id: 3,
    username: 'alan',
    name: 'Alan Turing',
    email: 'alan@example.com',
    password: 'enigma-1939',
  },
])

const TABLE = 'uptimekit_example_users'

/** A user as the API shows it. */
export interface PublicUser {
  id: number
  username: string
  name: string
  email: string
}

interface UserRow extends PublicUser {
  passwordHash: string
}

/** Where the users live. */
export interface Users {
  readonly kind: 'memory' | 'postgres'
  findById(id: number): Promise<PublicUser | undefined>
  verifyLogin(username: string, password: string): Promise<PublicUser | undefined>
}

/** The part of a pg Pool the users need. */
export interface UsersPool {
  connect(): Promise<{
    query(text: string, values?: unknown[]): Promise<unknown>
    release(): void
  }>
  query<TRow>(text: string, values?: unknown[]): Promise<{ rows: TRow[] }>
}

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(password, salt, KEY_BYTES)
  return `${salt.toString('hex')}:${key.toString('hex')}`
}

async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [salt = '', key = ''] = stored.split(':')
  const candidate = await scryptAsync(password, Buffer.from(salt, 'hex'), KEY_BYTES)
  return timingSafeEqual(candidate, Buffer.from(key, 'hex'))
}

const publicUser = ({ id, username, name, email }: PublicUser): PublicUser => ({
  id,
  username,
  name,
  email,
})

/**
 * The login check costs one scrypt whether or not the user exists, so the
 * answer time does not tell an attacker which usernames are real.
 */
function verifier(
  findByUsername: (username: string) => Promise<UserRow | undefined>,
  decoyHash: string,
): Users['verifyLogin'] {
  return async (username, password) => {
    const row = await findByUsername(username)
    const matches = await passwordMatches(password, row?.passwordHash ?? decoyHash)
    return row !== undefined && matches ? publicUser(row) : undefined
  }
}

/** The users in memory (no database). */
export async function createMemoryUsers(): Promise<Users> {
  const rows: UserRow[] = await Promise.all(
    SEED_USERS.map(async (user) => ({ ...user, passwordHash: await hashPassword(user.password) })),
  )
  const decoyHash = await hashPassword(randomBytes(16).toString('hex'))
  return {
    kind: 'memory',
    findById(id: number) {
      const row = rows.find((user) => user.id === id)
      return Promise.resolve(row === undefined ? undefined : publicUser(row))
    },
    verifyLogin: verifier(
      (username: string) => Promise.resolve(rows.find((u) => u.username === username)),
      decoyHash,
    ),
  }
}

/**
 * The users in Postgres: creates and seeds the table on first start. Several
 * instances starting at once take an advisory lock, so only one creates it.
 */
export async function createPgUsers(pool: UsersPool): Promise<Users> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [TABLE])
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (
        id integer PRIMARY KEY, username text UNIQUE NOT NULL, name text NOT NULL,
        email text NOT NULL, password_hash text NOT NULL)`,
    )
    for (const user of SEED_USERS) {
      await client.query(
        `INSERT INTO ${TABLE} (id, username, name, email, password_hash)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
        [user.id, user.username, user.name, user.email, await hashPassword(user.password)],
      )
    }
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
  const decoyHash = await hashPassword(randomBytes(16).toString('hex'))
  const columns = 'id, username, name, email, password_hash AS "passwordHash"'
  return {
    kind: 'postgres',
    async findById(id: number) {
      const { rows } = await pool.query<UserRow>(`SELECT ${columns} FROM ${TABLE} WHERE id = $1`, [
        id,
      ])
      return rows[0] === undefined ? undefined : publicUser(rows[0])
    },
    verifyLogin: verifier(async (username: string) => {
      const { rows } = await pool.query<UserRow>(
        `SELECT ${columns} FROM ${TABLE} WHERE username = $1`,
        [username],
      )
      return rows[0]
    }, decoyHash),
  }
}
