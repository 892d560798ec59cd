// Matches the user-info part of a URL (`//user:password@`), the only place driver messages carry secrets.
const USER_INFO = /\/\/[^/@\s]*@/g

/** Removes credentials from a URL or a driver message before it reaches a log line. */
export function redactCredentials(text: string): string {
  return text.replace(USER_INFO, '//***@')
}
