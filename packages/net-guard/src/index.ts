export { FetchError, type FetchErrorKind, isFetchError } from './fetch-error.js';
export {
  createHttpClient,
  type GetOptions,
  type HttpClient,
  type HttpClientOptions,
  type HttpResponse,
  readCapped,
  sanitizeHeaders,
} from './http-client.js';
export {
  type AddressClass,
  type AddressDecision,
  type AddressPolicy,
  type AddressPolicyOptions,
  type AddressTarget,
  type CheckedTarget,
  classifyAddress,
  createAddressPolicy,
  createHostList,
  createSsrfGuard,
  type HostList,
  normalizeHost,
  parseHostRule,
  pinnedLookup,
  type PolicySettingNames,
  type ResolvedAddress,
  type Resolver,
  type SsrfGuard,
  type SsrfGuardOptions,
  systemResolver,
} from './ssrf-guard.js';
export { type TableResolver, tableResolver } from './table-resolver.js';
