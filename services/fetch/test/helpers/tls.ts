export { selfSignedCertificate } from '@mcp-sse/testing';
