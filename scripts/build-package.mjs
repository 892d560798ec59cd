// Builds the package in the working directory from its tsdown.config.ts. It calls tsdown's API
// rather than its command line, which opens every build on Node 20 with a notice that Node 20
// support will end; the packages are built and tested on Node 20 on purpose (it is the oldest
// line they support), so the notice is noise in every build log.
import { build } from 'tsdown'

await build({ config: 'tsdown.config.ts' })
