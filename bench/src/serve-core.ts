import { runService } from '@mcp-sse/core';

import { trivialService } from './trivial-service.js';

// Settings (PORT, LOG_LEVEL, MCP_RATE_LIMIT, ...) come from the environment the bench sets.
await runService(trivialService);
