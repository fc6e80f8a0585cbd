/**
 * Container references as callers give them: a name or an id (full or a unique prefix), in Docker's
 * own grammar (`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`, daemon/names). Anything else (spaces, `;`, `$(`,
 * `/`, `%2F`, `..`, a leading `-`, non-ASCII look-alikes, control characters) is refused before any
 * request is made; a valid reference is then resolved against the engine's list to a full id, so the
 * caller's text never reaches a URL path. No shell is involved anywhere.
 */
import { MonitoringError, shown } from './errors.js';

/** Docker's container name grammar, plus the optional leading slash the engine itself writes. */
export const CONTAINER_REF_PATTERN = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
export const CONTAINER_REF_MAX = 255;
export const CONTAINER_REF_HELP =
  'a container name (letters, digits, "_", "." and "-", starting with a letter or digit) or id (hex, or a unique prefix of one)';

const FULL_ID = /^[0-9a-f]{64}$/;
const HEX = /^[0-9a-f]+$/;

/** Checks a reference's grammar; returns it without a leading slash. */
export function checkContainerRef(ref: string): string {
  if (ref.length > CONTAINER_REF_MAX) {
    throw new MonitoringError(
      'INVALID_INPUT',
      `Invalid container reference (${ref.length} characters; at most ${CONTAINER_REF_MAX}): use ${CONTAINER_REF_HELP}`,
    );
  }
  if (!CONTAINER_REF_PATTERN.test(ref)) {
    throw new MonitoringError('INVALID_INPUT', `Invalid container reference ${shown(ref)}: use ${CONTAINER_REF_HELP}`);
  }
  return ref.startsWith('/') ? ref.slice(1) : ref;
}

/** What resolution needs of each container: its full id and its names (with the engine's leading slash). */
export interface ContainerSummaryLike {
  Id: string;
  Names?: string[] | null;
}

/**
 * Finds the one container `ref` names, in the engine's order: exact id, then exact name, then a
 * unique id prefix. An ambiguous prefix and an unknown reference are refused with a clear error.
 */
export function resolveContainerRef<C extends ContainerSummaryLike>(ref: string, containers: readonly C[]): C {
  const wanted = checkContainerRef(ref);
  const lower = wanted.toLowerCase();
  if (FULL_ID.test(lower)) {
    const exact = containers.find((container) => container.Id === lower);
    if (exact) return exact;
  }
  const named = containers.find((container) => (container.Names ?? []).some((name) => name === `/${wanted}`));
  if (named) return named;
  if (HEX.test(wanted)) {
    const matches = containers.filter((container) => container.Id.startsWith(wanted));
    if (matches.length === 1) return matches[0] as C;
    if (matches.length > 1) {
      throw new MonitoringError(
        'INVALID_INPUT',
        `Container reference ${shown(ref)} is ambiguous: it is a prefix of ${matches.length} container ids; give more of the id or the name`,
      );
    }
  }
  throw new MonitoringError(
    'NOT_FOUND',
    `No container named or with id ${shown(ref)} (list_containers with all=true lists them)`,
  );
}

/** A container's display name: its first name without the slash, or its short id. */
export function containerName(container: ContainerSummaryLike): string {
  const first = container.Names?.[0];
  return first === undefined ? container.Id.slice(0, 12) : first.replace(/^\//, '');
}
