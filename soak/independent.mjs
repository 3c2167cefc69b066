// The soak's second opinion: a request that got through the gateway is checked again here, with
// node:crypto only (no edgeward code), against every key the IdP ever published. A request that
// should not have got through is a violation. Used by the Envoy upstream (soak.mjs) and by the
// handler behind `middleware` (node-server.mjs).

import { createPublicKey, verify } from 'node:crypto';

export const ISSUER = 'https://idp.soak.test';
export const AUDIENCE = 'orders-api';
export const SKEW_SECONDS = 30;

/** What each route needs: `null` is public, otherwise the one scope it requires. */
export function requiredScope(method, path) {
  const route = path.split('?')[0];
  if (route === '/healthz' || route.startsWith('/healthz/')) return null;
  if (route === '/orders' || route.startsWith('/orders/')) return method === 'GET' ? 'read:orders' : 'write:orders';
  return undefined; // no rule: must never be forwarded
}

export class IndependentVerifier {
  #keys = new Map(); // kid -> KeyObject, every key ever published
  #memo = new Map(); // token -> { claims } | { reason }

  /** Adds the public JWKs the IdP serves (called whenever it publishes). */
  learn(jwks) {
    for (const jwk of jwks) {
      if (jwk.d !== undefined || this.#keys.has(jwk.kid)) continue;
      this.#keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
    }
  }

  #check(token) {
    const parts = token.split('.');
    if (parts.length !== 3) return { reason: 'not three segments' };
    let header;
    let claims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
    } catch {
      return { reason: 'not JSON' };
    }
    if (header.alg !== 'ES256') return { reason: `alg ${header.alg}` };
    const key = this.#keys.get(header.kid);
    if (!key) return { reason: 'key never published by the IdP' };
    const signature = Buffer.from(parts[2], 'base64url');
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, signature)) {
      return { reason: 'bad signature' };
    }
    if (claims.iss !== ISSUER) return { reason: 'iss' };
    if (claims.aud !== AUDIENCE && !(Array.isArray(claims.aud) && claims.aud.includes(AUDIENCE))) return { reason: 'aud' };
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (scopes.some((s) => s.includes('*'))) return { reason: 'wildcard scope' };
    return { claims, scopes };
  }

  /**
   * Checks one forwarded request; returns null when it deserved to get through, else why not.
   * `authorization` is the header the upstream received; `identity` the `sub` the gateway vouched
   * for (Envoy's x-bot-id, or req.auth's claims), undefined when it vouched for none.
   */
  judge(method, path, authorization, identity) {
    const scope = requiredScope(method, path);
    if (scope === undefined) return `no rule allows ${method} ${path.split('?')[0]}`;
    if (scope === null) return identity === undefined ? null : 'an identity on a public route';
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
    if (!token) return 'no token on a protected route';
    let result = this.#memo.get(token);
    if (!result) {
      result = this.#check(token);
      // Small and bounded: this process's own memory is measured by the soak.
      if (this.#memo.size >= 128) this.#memo.clear();
      this.#memo.set(token, result);
    }
    if (result.reason) return result.reason;
    const now = Date.now() / 1000;
    if (!(typeof result.claims.exp === 'number' && now < result.claims.exp + SKEW_SECONDS)) return 'expired';
    if (!result.scopes.includes(scope)) return `scope ${scope} missing`;
    if (identity !== result.claims.sub) return 'identity is not the token\'s sub';
    return null;
  }
}

/** Counts of what an upstream saw: forwarded requests and violations by reason. */
export class Tally {
  forwarded = 0;
  violations = 0;
  reasons = {};

  record(reason) {
    this.forwarded += 1;
    if (reason !== null) {
      this.violations += 1;
      this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
    }
  }

  snapshot() {
    return { forwarded: this.forwarded, violations: this.violations, reasons: { ...this.reasons } };
  }
}
