/** Replaced by `true` in a service bundle (scripts/bundle-service.mjs, esbuild's `define`); never declared otherwise. */
declare const MCP_SSE_BUNDLED: boolean | undefined;

/**
 * Whether this code runs from a service bundle rather than from tsc's files: the few places that
 * load a module by name at run time (resolved from the file's folder, which a bundle moves) or hook
 * module loading read it.
 */
export const bundled: boolean = typeof MCP_SSE_BUNDLED !== 'undefined' && MCP_SSE_BUNDLED;
