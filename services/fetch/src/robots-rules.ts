import { createTimeSlice, type TimeSlice } from '@mcp-sse/core';

/**
 * robots.txt rules per RFC 9309, without I/O: parsing, the group for our product token, path
 * normalisation (section 2.2.2) and matching. Written here rather than taken from robots-parser
 * because that package compares paths without decoding `%XX` of unreserved characters (so
 * `/%70rivate` slipped past `Disallow: /private`) and matches in O(path × pattern) per rule, which
 * a hostile robots.txt (one long `*a*a*a…` rule) turns into seconds of blocked event loop.
 *
 * Matching here is linear: a rule is literal pieces between `*`s, and for such patterns taking each
 * piece at its leftmost occurrence is exact, so one rule costs one pass over the path.
 */

export interface RobotsRule {
  allow: boolean;
  /** The normalised pattern, `*` and a final `$` included (its length is the rule's specificity). */
  pattern: string;
  /** 1-based line in robots.txt, for messages. */
  line: number;
}

interface CompiledRule extends RobotsRule {
  /** The pattern split at each `*`; the first piece is anchored at the start of the path. */
  pieces: string[];
  /** The pattern ended in `$`: the path must end where the pattern does. */
  anchored: boolean;
}

export interface RobotsRules {
  /** Most specific first (longest pattern; at equal length, allow before disallow). */
  readonly rules: readonly CompiledRule[];
}

export interface RobotsDecision {
  allowed: boolean;
  /** The rule that decided, when one matched. */
  rule?: RobotsRule;
}

const HEX = '0123456789ABCDEF';

/** RFC 3986 unreserved: decoded when percent-encoded. */
const isUnreserved = (code: number) =>
  (code >= 0x41 && code <= 0x5a) || // A-Z
  (code >= 0x61 && code <= 0x7a) || // a-z
  (code >= 0x30 && code <= 0x39) || // 0-9
  code === 0x2d || // -
  code === 0x2e || // .
  code === 0x5f || // _
  code === 0x7e; // ~

/** RFC 3986 reserved (gen-delims and sub-delims): kept as written, never decoded from `%XX`. */
const RESERVED = new Set(":/?#[]@!$&'()*+,;=".split('').map((char) => char.charCodeAt(0)));

const hexValue = (code: number): number => {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
};

const encodeOctet = (octet: number) => `%${HEX[octet >> 4]}${HEX[octet & 15]}`;

/**
 * The RFC 9309 (2.2.2) form of a path, so that two spellings of one path compare equal octet by
 * octet: `%XX` of an unreserved character is decoded (`%70` → `p`), any other `%XX` keeps its
 * encoding with upper-case hex (`%2f` → `%2F`, never a `/`), characters outside US-ASCII become
 * their UTF-8 octets percent-encoded, ASCII that a URI may not carry literally (space, `"`, `<`,
 * `|`, controls …) is percent-encoded, and a `%` that starts no escape is `%25`. Reserved characters
 * are left as written. With `wildcards`, `*` is kept as the wildcard (a literal asterisk is `%2A`).
 */
export function normalizeRobotsPath(raw: string, wildcards = false): string {
  // Parts joined once at the end: repeated `+=` and look-backs would flatten a rope again and again.
  const out: string[] = [];
  let lastWasStar = false;
  for (let index = 0; index < raw.length; index += 1) {
    const code = raw.charCodeAt(index);
    const star = code === 0x2a && wildcards;
    if (star) {
      if (!lastWasStar) out.push('*');
    } else if (code === 0x25) {
      const high = hexValue(raw.charCodeAt(index + 1));
      const low = hexValue(raw.charCodeAt(index + 2));
      if (high < 0 || low < 0) out.push('%25');
      else {
        const octet = high * 16 + low;
        out.push(isUnreserved(octet) ? String.fromCharCode(octet) : encodeOctet(octet));
        index += 2;
      }
    } else if (code < 0x80) {
      out.push(isUnreserved(code) || RESERVED.has(code) ? (raw[index] as string) : encodeOctet(code));
    } else {
      // One code point (a surrogate pair when astral; a lone surrogate encodes as U+FFFD) as UTF-8.
      const width = code >= 0xd800 && code <= 0xdbff && index + 1 < raw.length ? 2 : 1;
      for (const octet of Buffer.from(raw.slice(index, index + width), 'utf8')) out.push(encodeOctet(octet));
      index += width - 1;
    }
    lastWasStar = star;
  }
  return out.join('');
}

/** The product token robots.txt groups are matched on: `ModelContextProtocol/1.0 (…)` → `modelcontextprotocol`. */
export function productToken(userAgent: string): string {
  return (/^[A-Za-z_-]+/.exec(userAgent.trim())?.[0] ?? '').toLowerCase();
}

const USER_AGENT_KEYS = new Set(['user-agent', 'useragent', 'user agent']);
// Common misspellings that crawlers (Google's among them) accept; honouring them only restricts us.
const DISALLOW_KEYS = new Set(['disallow', 'dissallow', 'dissalow', 'disalow', 'diasllow', 'disallaw']);

function compile(allow: boolean, value: string, line: number): CompiledRule | undefined {
  if (value === '') return undefined; // `Disallow:` with nothing: no rule (RFC 9309 2.2.2)
  const raw = value.startsWith('/') || value.startsWith('*') ? value : `/${value}`;
  let pattern = normalizeRobotsPath(raw, true);
  const anchored = raw.endsWith('$');
  // The final `$` was kept as a reserved character; it is the end anchor, not part of a piece.
  const body = anchored ? pattern.slice(0, -1) : pattern;
  if (anchored) pattern = `${body}$`;
  return { allow, pattern, line, pieces: body.split('*'), anchored };
}

/**
 * Parses robots.txt and keeps the rules of the groups that apply to `token` (case-insensitive),
 * merged; when no group names it, the `*` groups; otherwise none. A group is one or more
 * `User-agent` lines followed by rules; unknown lines (Sitemap, Crawl-delay) do not end a group.
 */
export function parseRobotsTxt(body: string, token: string): RobotsRules {
  const wanted = token.toLowerCase();
  const groups: { agents: string[]; rules: CompiledRule[] }[] = [];
  let current: { agents: string[]; rules: CompiledRule[] } | undefined;
  let collectingAgents = false;
  const lines = body.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  lines.forEach((text, index) => {
    const hash = text.indexOf('#');
    const content = hash === -1 ? text : text.slice(0, hash);
    const colon = content.indexOf(':');
    if (colon === -1) return;
    const key = content.slice(0, colon).trim().toLowerCase();
    const value = content.slice(colon + 1).trim();
    if (USER_AGENT_KEYS.has(key)) {
      if (!collectingAgents || current === undefined) {
        current = { agents: [], rules: [] };
        groups.push(current);
        collectingAgents = true;
      }
      current.agents.push(value.startsWith('*') ? '*' : productToken(value));
      return;
    }
    const allow = key === 'allow';
    if (!allow && !DISALLOW_KEYS.has(key)) return;
    collectingAgents = false;
    const rule = current && compile(allow, value, index + 1);
    if (rule) current?.rules.push(rule);
  });
  const named = groups.filter((group) => wanted !== '' && group.agents.includes(wanted));
  const chosen = named.length > 0 ? named : groups.filter((group) => group.agents.includes('*'));
  const rules = chosen.flatMap((group) => group.rules);
  rules.sort((a, b) => b.pattern.length - a.pattern.length || Number(b.allow) - Number(a.allow));
  return { rules };
}

/** Whether a compiled rule matches a normalised path; linear in the path. */
function matches(rule: CompiledRule, path: string): boolean {
  const { pieces, anchored } = rule;
  const first = pieces[0] as string;
  if (!path.startsWith(first)) return false;
  let position = first.length;
  const last = pieces.length - 1;
  if (last === 0) return !anchored || position === path.length;
  for (let index = 1; index < last; index += 1) {
    const piece = pieces[index] as string;
    const at = path.indexOf(piece, position);
    if (at === -1) return false;
    position = at + piece.length;
  }
  const tail = pieces[last] as string;
  if (anchored) return path.length - tail.length >= position && path.endsWith(tail);
  return tail === '' || path.indexOf(tail, position) !== -1;
}

/**
 * Decides a URL's path (pathname plus query, as the WHATWG URL parser gives them): the most specific
 * matching rule wins, allow on a tie, and no match means allowed. `/robots.txt` is always allowed.
 * Yields to the event loop every few milliseconds, so a robots.txt with many rules cannot stall it.
 */
export async function decideRobots(
  rules: RobotsRules,
  pathAndQuery: string,
  slice: TimeSlice = createTimeSlice(),
): Promise<RobotsDecision> {
  const path = normalizeRobotsPath(pathAndQuery);
  if (path === '/robots.txt') return { allowed: true };
  for (const rule of rules.rules) {
    if (matches(rule, path))
      return { allowed: rule.allow, rule: { allow: rule.allow, pattern: rule.pattern, line: rule.line } };
    await slice.maybeYield();
  }
  return { allowed: true };
}
