import { runService } from '@mcp-sse/core';

import { service } from './service.js';

await runService(service);
