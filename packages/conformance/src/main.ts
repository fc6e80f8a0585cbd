import { runService } from '@mcp-sse/core';

import { fixtureService } from './fixture-service.js';

await runService(fixtureService);
