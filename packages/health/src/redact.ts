// The one redactor lives in @uptimekit/internal; checkers import it from here.
export { errorText, redact, safeDetails } from '@uptimekit/internal'
