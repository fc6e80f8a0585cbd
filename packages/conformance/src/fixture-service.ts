import { defineService } from '@mcp-sse/core';

import { type FixtureConfig, fixtureConfigSchema } from './fixture-config.js';
import { extendFixtureServer } from './fixture-features.js';
import { type FixtureDeps, fixtureTools } from './fixture-tools.js';

/**
 * Test-only: the conformance suite's reference server ("everything") rebuilt on the core, so that
 * the suite exercises our transports, registry and session handling rather than the SDK's own.
 */
export const fixtureService = defineService<FixtureConfig, FixtureDeps>({
  name: 'conformance-fixture',
  version: '0.1.0',
  description: 'Conformance fixture: the tools, resources and prompts of the MCP conformance suite',
  config: fixtureConfigSchema,
  toolsets: { fixture: { description: 'The test_* tools the conformance suite calls', default: true } },
  tools: fixtureTools,
  createContext: () => ({}),
  extendServer: extendFixtureServer,
});
