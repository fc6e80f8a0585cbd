import { timingSafeEqual } from 'node:crypto';

import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { OAuthError } from '../oauth/authorization-server.js';
import { newSecret, type PendingAuthorization } from '../oauth/oauth-store.js';
import { upstreamSecrets } from '../oauth/oidc-login.js';
import { consentPage, errorPage, loginPage, pageHeaders } from '../oauth/pages.js';
import { verifyPassword } from '../oauth/passwords.js';
import type { OAuthSetup } from '../oauth/setup.js';
import { createRateLimiter } from '../rate-limit.js';

const LOGIN_COOKIE = 'mcp_oauth_login';
const LOGIN_TTL_MS = 12 * 60 * 60_000;
/** A fixed hash to check a password against when the user does not exist: the same work either way. */
const DUMMY_HASH = 'scrypt.32768.8.1.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

type Form = Record<string, string | undefined>;

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
};
const crossOrigin = { config: { access: 'cross-origin' as const } };
const publicPage = { config: { access: 'public' as const } };

const sameSecret = (a: string | undefined, b: string): boolean => {
  if (a === undefined) return false;
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * The OAuth endpoints of a service (fastify adapter of oauth/): protected-resource metadata (RFC
 * 9728) always; with the built-in authorization server also its metadata (RFC 8414), /register,
 * /authorize with the login and consent pages, /token and /revoke. Every endpoint is public (no API
 * key); the metadata, token, registration and revocation endpoints allow any Origin (CORS), the
 * pages only their own.
 *
 * @public loaded by app.ts with a dynamic import, only when MCP_AUTH is not `keys`
 */
export function oauthPlugin(app: FastifyInstance, oauth: OAuthSetup, done: (err?: Error) => void): void {
  const { resource, server } = oauth;
  const publicUrl = new URL(resource.identifier);
  const secureCookie = publicUrl.protocol === 'https:';
  const cookiePath = publicUrl.pathname.replace(/\/+$/, '') || '/';
  // Failed logins per address and per user name: password guessing stops at a few per minute.
  const failedByAddress = createRateLimiter(30);
  const failedByUser = createRateLimiter(10);
  const blocked = new Map<string, number>();
  const isBlocked = (key: string) => (blocked.get(key) ?? 0) > Date.now();
  const failed = (key: string, limiter: ReturnType<typeof createRateLimiter>) => {
    const wait = limiter.take(key);
    if (wait > 0) {
      if (blocked.size > 10_000) blocked.clear();
      blocked.set(key, Date.now() + wait * 1000);
    }
  };

  // Forms and token requests are application/x-www-form-urlencoded.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, parsed) => {
    const form: Form = {};
    for (const [name, value] of new URLSearchParams(body.toString())) {
      // A parameter sent twice is a malformed OAuth request (RFC 6749 3.1): keep neither.
      form[name] = Object.hasOwn(form, name) ? '\u0000duplicate' : value;
    }
    parsed(null, form);
  });

  for (const [route, path] of resource.metadataRoutes) {
    app.get(route, crossOrigin, (_request, reply) => reply.headers(CORS).send(resource.metadata(path)));
  }
  app.options('/*', crossOrigin, (_request, reply) => reply.headers(CORS).code(204).send());

  if (!server) {
    done();
    return;
  }

  for (const route of resource.authorizationServerRoutes) {
    app.get(route, crossOrigin, (_request, reply) => reply.headers(CORS).send(server.metadata()));
  }

  const oauthFailure = (reply: FastifyReply, error: unknown) => {
    if (!(error instanceof OAuthError)) throw error;
    return reply
      .code(error.status)
      .headers({ ...CORS, 'cache-control': 'no-store' })
      .send(error.toJSON());
  };
  const formOf = (request: FastifyRequest): Form => {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded');
    }
    const form = body as Form;
    for (const value of Object.values(form)) {
      if (value === '\u0000duplicate') throw new OAuthError('invalid_request', 'A parameter was sent twice');
    }
    return form;
  };

  app.post('/register', crossOrigin, async (request, reply) => {
    try {
      return reply
        .code(201)
        .headers({ ...CORS, 'cache-control': 'no-store' })
        .send(server.register(request.body));
    } catch (error) {
      return oauthFailure(reply, error);
    }
  });

  app.post('/token', crossOrigin, async (request, reply) => {
    try {
      const answer = await server.token(formOf(request), request.headers.authorization);
      return reply.headers({ ...CORS, 'cache-control': 'no-store', pragma: 'no-cache' }).send(answer);
    } catch (error) {
      return oauthFailure(reply, error);
    }
  });

  app.post('/revoke', crossOrigin, async (request, reply) => {
    try {
      await server.revoke(formOf(request), request.headers.authorization);
      return reply.headers(CORS).code(200).send({});
    } catch (error) {
      return oauthFailure(reply, error);
    }
  });

  // The browser part: /authorize → login → consent → back to the client with a code.

  const page = (reply: FastifyReply, status: number, html: string, formTargets: readonly string[] = []) =>
    reply.code(status).headers(pageHeaders(formTargets)).send(html);
  // The login form may lead on to the identity provider (its authorization endpoint is discovered).
  let upstreamTargets: string[] = [];
  if (oauth.upstream) {
    void oauth.upstream
      .authorizationUrl('-', '-', 'probe')
      .then((url) => (upstreamTargets = [url]))
      .catch(() => undefined);
  }
  const loggedIn = (request: FastifyRequest): string | undefined => {
    const session = parseCookie(request.headers.cookie ?? '')[LOGIN_COOKIE];
    return session && oauth.store ? oauth.store.getLogin(session, Date.now()) : undefined;
  };
  const startLogin = (reply: FastifyReply, subject: string) => {
    const session = newSecret('');
    oauth.store?.saveLogin(session, subject, Date.now() + LOGIN_TTL_MS);
    void reply.header(
      'set-cookie',
      stringifySetCookie({
        name: LOGIN_COOKIE,
        value: session,
        httpOnly: true,
        secure: secureCookie,
        sameSite: 'lax',
        path: cookiePath,
        maxAge: LOGIN_TTL_MS / 1000,
      }),
    );
  };
  const clientName = (pending: PendingAuthorization) => pending.clientName ?? pending.clientId;
  const showConsent = (reply: FastifyReply, id: string, pending: PendingAuthorization, subject: string) =>
    page(
      reply,
      200,
      consentPage({
        service: resource.identifier,
        actions: { consent: `${resource.identifier}/oauth/consent` },
        pendingId: id,
        csrf: pending.csrf,
        clientName: clientName(pending),
        redirectHost: new URL(pending.redirectUri).host,
        subject,
        scopes: pending.scope,
      }),
      [pending.redirectUri],
    );
  const showLogin = (reply: FastifyReply, id: string, pending: PendingAuthorization, status = 200, error?: string) =>
    page(
      reply,
      status,
      loginPage({
        service: resource.identifier,
        actions: { login: `${resource.identifier}/oauth/login` },
        pendingId: id,
        csrf: pending.csrf,
        clientName: clientName(pending),
        password: oauth.users.size > 0,
        upstream: oauth.upstream !== undefined,
        ...(error === undefined ? {} : { error }),
      }),
      upstreamTargets,
    );
  /** The pending authorization a form names, if its CSRF token is the one the page carried. */
  const pendingOf = (form: Form): { id: string; pending: PendingAuthorization } | undefined => {
    const id = form['pending'];
    const pending = id ? server.pending(id) : undefined;
    return id && pending && sameSecret(form['csrf'], pending.csrf) ? { id, pending } : undefined;
  };
  const expired = (reply: FastifyReply) =>
    page(
      reply,
      400,
      errorPage(
        'Request expired',
        'This authorization request is unknown or has expired, or the form was not the one this server sent. Start again from your app.',
      ),
    );

  app.get('/authorize', publicPage, async (request, reply) => {
    const started = await server.startAuthorization(request.query as Form);
    if (!started.ok) {
      if ('redirect' in started) return reply.redirect(started.redirect, 302);
      return page(reply, 400, errorPage('Authorization refused', started.page.description));
    }
    const subject = loggedIn(request);
    const pending = subject === undefined ? started.pending : { ...started.pending, subject };
    const id = server.savePending(pending);
    if (subject !== undefined) return showConsent(reply, id, pending, subject);
    return showLogin(reply, id, pending);
  });

  app.post('/oauth/login', publicPage, async (request, reply) => {
    let form: Form;
    try {
      form = formOf(request);
    } catch {
      return expired(reply);
    }
    const found = pendingOf(form);
    if (!found) return expired(reply);
    const { id, pending } = found;
    if (form['upstream'] !== undefined && oauth.upstream && oauth.store) {
      const secrets = upstreamSecrets();
      oauth.store.saveUpstreamState(secrets.state, { pendingId: id, ...secrets }, Date.now() + 10 * 60_000);
      return reply.redirect(await oauth.upstream.authorizationUrl(secrets.state, secrets.nonce, secrets.verifier), 302);
    }
    const username = form['username'] ?? '';
    const byAddress = `ip:${request.ip}`;
    const byUser = `user:${username}`;
    if (isBlocked(byAddress) || isBlocked(byUser)) {
      return showLogin(reply, id, pending, 429, 'Too many failed attempts: wait a minute and try again.');
    }
    const hash = oauth.users.get(username);
    const valid = await verifyPassword(form['password'] ?? '', hash ?? DUMMY_HASH);
    if (!hash || !valid) {
      failed(byAddress, failedByAddress);
      failed(byUser, failedByUser);
      return showLogin(reply, id, pending, 401, 'Wrong user name or password.');
    }
    startLogin(reply, username);
    const updated = { ...pending, subject: username };
    server.updatePending(id, updated);
    return showConsent(reply, id, updated, username);
  });

  app.get('/oauth/callback', publicPage, async (request, reply) => {
    const query = request.query as Form;
    const taken = query['state'] && oauth.store ? oauth.store.takeUpstreamState(query['state'], Date.now()) : undefined;
    const pending = taken ? server.pending(taken.pendingId) : undefined;
    if (!taken || !pending || !oauth.upstream) return expired(reply);
    if (!query['code']) return page(reply, 400, errorPage('Login failed', 'The identity provider did not log you in.'));
    let subject: string;
    try {
      subject = await oauth.upstream.complete(query['code'], taken.nonce, taken.verifier);
    } catch (error) {
      request.log.warn({ err: error }, 'OIDC login failed');
      return page(reply, 502, errorPage('Login failed', 'The identity provider could not be verified.'));
    }
    startLogin(reply, subject);
    const updated = { ...pending, subject };
    server.updatePending(taken.pendingId, updated);
    return showConsent(reply, taken.pendingId, updated, subject);
  });

  app.post('/oauth/consent', publicPage, async (request, reply) => {
    let form: Form;
    try {
      form = formOf(request);
    } catch {
      return expired(reply);
    }
    const found = pendingOf(form);
    // The consent belongs to whoever logged in for this request, in this browser.
    const subject = loggedIn(request);
    if (!found || subject === undefined || found.pending.subject !== subject) return expired(reply);
    const { id, pending } = found;
    const target =
      form['decision'] === 'allow' ? server.approve(id, pending, subject, pending.scope) : server.deny(id, pending);
    return reply.redirect(target, 302);
  });
  done();
}
