import type { Scope } from './scopes.js';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * Headers of a page of the flow: no framing (clickjacking), no scripts, no caching, a referrer only
 * to itself (the URL carries the pending authorization's id). Its forms may post to this server and
 * lead on only to `formTargets` (browsers apply form-action to the redirect after a post: the
 * client's redirect URI, the identity provider).
 */
export function pageHeaders(formTargets: readonly string[] = []): Record<string, string> {
  const origins = [...new Set(formTargets.map((target) => new URL(target).origin))].join(' ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'x-frame-options': 'DENY',
    'content-security-policy':
      `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${origins ? ` ${origins}` : ''}; ` +
      "frame-ancestors 'none'; base-uri 'none'",
    'cache-control': 'no-store',
    // same-origin: the page's own forms carry their Origin (no-referrer makes browsers send "null").
    'referrer-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
  };
}

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; padding: 1rem; background: #f5f5f7; color: #1d1d1f; }
  main { max-width: 28rem; margin: 2rem auto; background: #fff; border-radius: 12px; padding: 1.5rem;
    box-shadow: 0 1px 4px rgba(0,0,0,.1); }
  h1 { font-size: 1.3rem; margin-top: 0; }
  label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
  input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem;
    border: 1px solid #c7c7cc; border-radius: 8px; }
  .actions { display: flex; gap: .75rem; margin-top: 1.25rem; flex-wrap: wrap; }
  button { flex: 1 1 8rem; padding: .75rem; font-size: 1rem; border-radius: 8px; border: 1px solid #0066cc;
    background: #0066cc; color: #fff; cursor: pointer; }
  button.secondary { background: #fff; color: #0066cc; }
  button:focus-visible, input:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
  ul { padding-left: 1.25rem; } .muted { color: #6e6e73; font-size: .9rem; word-break: break-all; }
  .error { color: #b00020; }`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

const SCOPE_TEXT: Record<Scope, string> = {
  read: 'Read: use the tools that only read',
  write: 'Write: use the tools that change things',
};

export function loginPage(options: {
  service: string;
  /** Where the forms post: absolute, so that it holds wherever the page was served from. */
  actions: { login: string };
  pendingId: string;
  csrf: string;
  clientName: string;
  password: boolean;
  upstream: boolean;
  error?: string;
}): string {
  const { pendingId, csrf } = options;
  const hidden = `<input type="hidden" name="pending" value="${escapeHtml(pendingId)}">
    <input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;
  const password = options.password
    ? `<form method="post" action="${escapeHtml(options.actions.login)}">${hidden}
      <label for="username">User name</label><input id="username" name="username" type="text" autocomplete="username" required autofocus>
      <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
      <div class="actions"><button type="submit">Log in</button></div></form>`
    : '';
  const upstream = options.upstream
    ? `<form method="post" action="${escapeHtml(options.actions.login)}">${hidden}<input type="hidden" name="upstream" value="1">
      <div class="actions"><button type="submit" class="${options.password ? 'secondary' : ''}">Log in with your identity provider</button></div></form>`
    : '';
  return page(
    `Log in to ${options.service}`,
    `<h1>Log in to ${escapeHtml(options.service)}</h1>
    <p><strong>${escapeHtml(options.clientName)}</strong> asks to use this server on your behalf.</p>
    ${options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : ''}${password}${upstream}`,
  );
}

export function consentPage(options: {
  service: string;
  actions: { consent: string };
  pendingId: string;
  csrf: string;
  clientName: string;
  redirectHost: string;
  subject: string;
  scopes: Scope[];
}): string {
  const items = options.scopes.map((scope) => `<li>${escapeHtml(SCOPE_TEXT[scope])}</li>`).join('');
  return page(
    `Allow access to ${options.service}?`,
    `<h1>Allow <strong>${escapeHtml(options.clientName)}</strong> to use ${escapeHtml(options.service)}?</h1>
    <p>Signed in as <strong>${escapeHtml(options.subject)}</strong>. It asks for:</p><ul>${items}</ul>
    <p class="muted">You will be sent back to ${escapeHtml(options.redirectHost)}.</p>
    <form method="post" action="${escapeHtml(options.actions.consent)}">
      <input type="hidden" name="pending" value="${escapeHtml(options.pendingId)}">
      <input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">
      <div class="actions"><button type="submit" name="decision" value="allow">Allow</button>
      <button type="submit" name="decision" value="deny" class="secondary">Deny</button></div>
    </form>`,
  );
}

export function errorPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p class="error" role="alert">${escapeHtml(message)}</p>`);
}
