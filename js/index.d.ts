// Types of the npm package `edgeward` (hand-written; no `any` in the public surface).

// ---------------------------------------------------------------------------------------------
// JSON

/** A JSON value, as decoded from a token. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [member: string]: JsonValue };

// ---------------------------------------------------------------------------------------------
// Policy (the same document the Envoy filter and the CLI read; docs/policy.md has every field)

/** Signature algorithms edgeward verifies. */
export type Algorithm =
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'EdDSA';

/** A public JWK (RFC 7517). Private members (`d`, …) make the JWKS invalid. */
export interface Jwk {
  kty: 'EC' | 'RSA' | 'OKP' | (string & {});
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  [member: string]: JsonValue | undefined;
}

/** A JWK Set. */
export interface JwksDocument {
  keys: Jwk[];
}

/** Where a provider's keys are fetched from (by the Envoy host, or by `createRemoteJwks`). */
export interface RemoteJwksPolicy {
  /** Envoy cluster that reaches the IdP (the filter needs it). */
  cluster?: string;
  /**
   * The JWKS URI; with `discovery`, the discovery document's (default
   * `<issuer>/.well-known/openid-configuration`). Required without `discovery`.
   */
  uri?: string;
  /** Fetch the OpenID configuration at `uri`, then the keys at its `jwks_uri`. Default false. */
  discovery?: boolean;
  /** With `discovery`: the Envoy cluster for a `jwks_uri` on another host than `uri`. */
  jwks_cluster?: string;
  /** Default 300. */
  cache_duration_seconds?: number;
  /** Default 2000. */
  timeout_ms?: number;
  /** Default 30. */
  refetch_cooldown_seconds?: number;
}

/** A request header that may carry the token. */
export interface HeaderSource {
  /** Matched case-insensitively. */
  name: string;
  /** Matched case-insensitively, e.g. `"Bearer "`. */
  value_prefix?: string;
}

/** A claim copied into a request header (used by the Envoy filter). */
export interface ClaimToHeader {
  claim_name: string;
  header_name: string;
}

/** An identity provider whose tokens are trusted. */
export interface ProviderPolicy {
  /** The exact `iss`. */
  issuer: string;
  /** A token must carry one of these in `aud`. */
  audiences: string[];
  /** Default `["ES256"]`. */
  algorithms?: Algorithm[];
  local_jwks?: JwksDocument;
  remote_jwks?: RemoteJwksPolicy;
  /** Default 30. */
  clock_skew_seconds?: number;
  /**
   * Refuse tokens whose `exp - iat` is larger (and tokens without `iat`). Default 3600; `null`
   * turns the bound off; over 86400 needs `allow_long_lived_tokens: true`.
   */
  max_lifetime_seconds?: number | null;
  /** Allow a `max_lifetime_seconds` over one day. Default false. */
  allow_long_lived_tokens?: boolean;
  /** Accept RSA keys up to 8192 bits (default: at most 4096). Default false. */
  allow_large_rsa_keys?: boolean;
  /** Accepted `typ` values; absent accepts any. */
  token_types?: string[];
  required_claims?: string[];
  /** Default `Authorization: Bearer <token>`. */
  from_headers?: HeaderSource[];
  forward?: boolean;
  claim_to_headers?: ClaimToHeader[];
  /**
   * Which tokens must be bound to a key the bot holds (docs/policy.md, "Proof of possession"):
   * `none` (default: bearer tokens pass; a bound token still needs its proof), `mtls`, `dpop`, `any`.
   */
  proof_of_possession?: 'none' | 'mtls' | 'dpop' | 'any';
  /** The algorithms a DPoP proof may use. Default `["ES256"]`. */
  dpop_algorithms?: Algorithm[];
  /** How old a DPoP proof's `iat` may be (1 to 3600). Default 300. */
  dpop_max_age_seconds?: number;
  /**
   * The origins (`https://api.example.com`) a DPoP proof's `htu` may name, for a server behind a
   * proxy that ends TLS or changes the host; default the request's own (the socket's scheme, `Host`).
   */
  dpop_origins?: string[];
  /** The token's `sub` must be the verified client certificate's URI SAN. Default false. */
  bind_subject_to_peer?: boolean;
}

/**
 * Which requests a rule matches: a path prefix or an exact path (also with one trailing `/`),
 * and optionally methods (a rule for `GET` also matches `HEAD`). `case_sensitive` defaults to true.
 */
export type RouteMatch =
  | { prefix: string; path?: never; methods?: string[]; case_sensitive?: boolean }
  | { path: string; prefix?: never; methods?: string[]; case_sensitive?: boolean };

/** A rule; without `requires` the request passes without a token. First match wins. */
export interface Rule {
  match: RouteMatch;
  /** `peers`: the URI SANs (SPIFFE IDs) of the verified client certificates that may call. */
  requires?: { provider_name: string; scopes?: string[]; peers?: string[] };
}

/** The policy document. Unknown fields are errors (ERR_POLICY_INVALID, naming the field). */
export interface Policy {
  providers: Record<string, ProviderPolicy>;
  rules?: Rule[];
  /** Refuse tokens carrying a `*` scope. Default true. */
  deny_wildcard_scopes?: boolean;
  /**
   * Headers naming another method (`X-HTTP-Method-Override`, …): a request carrying one must
   * also pass that method's rule. Default the three common names; `[]` turns it off.
   */
  method_override_headers?: string[];
  /** Verified tokens kept (default 4096; 0 turns the cache off). */
  token_cache_size?: number;
  /** Longest token accepted, in bytes (default 16384). */
  max_token_bytes?: number;
}

// ---------------------------------------------------------------------------------------------
// Results and errors

/** Every stable code (docs/policy.md, "Error codes"). */
export type ErrorCode =
  | 'ERR_JWT_MISSING'
  | 'ERR_JWT_INVALID'
  | 'ERR_JOSE_ALG_NOT_ALLOWED'
  | 'ERR_JOSE_NOT_SUPPORTED'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
  | 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_CLAIM_VALIDATION_FAILED'
  | 'ERR_JWT_LIFETIME_EXCEEDED'
  | 'ERR_SCOPE_WILDCARD'
  | 'ERR_SCOPE_INSUFFICIENT'
  | 'ERR_PRINCIPAL_DENIED'
  | 'ERR_POP_MISSING'
  | 'ERR_MTLS_BINDING_MISMATCH'
  | 'ERR_DPOP_PROOF_INVALID'
  | 'ERR_DPOP_REPLAYED'
  | 'ERR_PEER_DENIED'
  | 'ERR_ROUTE_DENIED'
  | 'ERR_JWKS_UNAVAILABLE'
  | 'ERR_REPLAY_STORE_UNAVAILABLE'
  | 'ERR_HOST_CRYPTO_FAILED'
  | 'ERR_POLICY_INVALID'
  | 'ERR_JWKS_INVALID';

/** How a refusal is answered over HTTP (the core's one mapping; the middleware writes it). */
export interface Denial {
  readonly status: 401 | 403 | 500 | 503;
  readonly wwwAuthenticate?: string;
  /** Seconds, for 503. */
  readonly retryAfter?: number;
  /** The `error` word of the JSON body. */
  readonly error: string;
  /** `{"error":"…","code":"…"}`; never echoes the token. */
  readonly body: string;
  /** Every response header, lowercase names: content-type, cache-control, www-authenticate, retry-after. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** A refusal from edgeward. Assert on `code`; messages never contain a token or key material. */
export class EdgewardError extends Error {
  private constructor();
  readonly name: 'EdgewardError';
  readonly code: ErrorCode;
  /** The claim (or header parameter) a claim failure is about: `iss`, `aud`, `exp`, `nbf`, `typ`, … */
  readonly claim?: string;
  /** For ERR_POLICY_INVALID / ERR_JWKS_INVALID: the field, e.g. `providers.corp-idp.audiences[0]`. */
  readonly path?: string;
  /** For a JSON syntax error in a policy or JWKS: 1-based line and column. */
  readonly line?: number;
  readonly column?: number;
  readonly denial: Denial;
  /** The decision record, on a refusal of `authorize(…, { record: true })` (and of `proofRefusal`). */
  readonly record?: DecisionRecord;
}

/** The protected header of a verified token. */
export interface JoseHeader {
  alg: string;
  kid?: string;
  typ?: string;
  [parameter: string]: JsonValue | undefined;
}

/** The claims of a token. */
export interface Claims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  scope?: string;
  scp?: string | string[];
  [claim: string]: JsonValue | undefined;
}

/** Deeply read-only (results are frozen). */
export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A verified token. `header`, `claims` and `scopes` are frozen and may be shared between calls. */
export interface VerifyResult {
  /** The provider that vouched for it. */
  provider: string;
  header: DeepReadonly<JoseHeader>;
  claims: DeepReadonly<Claims>;
  /** Granted scopes: the words of `scope` and the entries of `scp`. */
  scopes: readonly string[];
}

export interface VerifyOptions {
  /** The provider to verify against; default: the only one, else the one whose issuer is `iss`. */
  provider?: string;
  /** Scopes the caller needs, every one: a space-separated string or an array of single words. */
  scopes?: string | readonly string[];
  /** Unix seconds (a safe integer) or a Date. Default: the clock. */
  now?: number | Date;
}

export interface VerifierOptions {
  /**
   * Reuse the answer for the same token, provider, scopes and second without crossing into wasm
   * (default true; off anyway when the policy's token_cache_size is 0).
   */
  memoize?: boolean;
  /**
   * On Node, RS256/384/512, PS256/384/512, ES384 and ES512 signatures are checked by `node:crypto` (OpenSSL),
   * every other check by edgeward (docs/policy.md, "Host crypto"). `false` keeps them in
   * edgeward's wasm, as in browsers. Default true.
   */
  hostCrypto?: boolean;
}

/**
 * Request headers: Node's `req.headers` or `req.rawHeaders` (name, value, name, value, …), a fetch
 * `Headers`, or a lookup by lowercase name.
 */
export type RequestHeaders =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | readonly string[]
  | { get(name: string): string | null | undefined }
  | ((name: string) => string | null | undefined);

/**
 * The header changes an allowed request needs before a handler (or upstream) sees it: names to
 * remove (claim and token headers the client sent, under any spelling), then `[name, value]`
 * pairs to set from the verified claims. The middleware applies them to `req.headers`.
 */
export interface HeaderChanges {
  readonly remove: readonly string[];
  readonly set: ReadonlyArray<readonly [string, string]>;
}

export type AuthorizeResult =
  | ({ access: 'public' } & HeaderChanges)
  | ({ access: 'granted'; result: VerifyResult; proof?: ProofUse } & HeaderChanges);

/**
 * What the TLS layer knows about a request's connection (for DPoP's `htu`, certificate-bound
 * tokens and `peers`); the middleware reads it from `req.socket`. Never from `X-Forwarded-*`.
 */
export interface ConnectionInfo {
  /** `https` or `http`: the socket's, not a header's. */
  scheme?: string;
  /** The request's authority (`Host`, HTTP/2 `:authority`): `api.example.com`, `127.0.0.1:8443`. */
  authority?: string;
  /** The DER of the client certificate (`getPeerCertificate().raw`), verified by a CA or not. */
  peerCertificate?: Uint8Array;
  /** The first URI SAN of a client certificate the TLS layer verified (`socket.authorized`) only. */
  peerUriSan?: string;
}

export interface AuthorizeOptions {
  now?: number | Date;
  /**
   * Match every rule's path case-insensitively, as an application that routes so (Express) reads
   * it. Default false: the policy's own `case_sensitive` per rule.
   */
  caseInsensitive?: boolean;
  /** Add the decision's `record` to the answer (and to a thrown error's `record`). */
  record?: boolean;
  connection?: ConnectionInfo;
}

/**
 * A DPoP proof an allowed request used: the request may go on only once a replay store recorded
 * `key` as new, kept `ttlSeconds` (until `expiresAt`, Unix seconds).
 */
export interface ProofUse {
  readonly key: string;
  readonly ttlSeconds: number;
  readonly expiresAt: number;
}

/** A replay store's answer: anything but `'fresh'` or `'replayed'` refuses the request (503). */
export type ReplayAnswer = 'fresh' | 'replayed' | 'full';

/**
 * Where used DPoP proofs are kept (each accepted once within its window). `record` answers
 * `'fresh'` the first time and `'replayed'` after, now or later (a promise); a throw, a rejection
 * or any other answer refuses the request with ERR_REPLAY_STORE_UNAVAILABLE (503).
 */
export interface ReplayStore {
  record(proof: ProofUse): ReplayAnswer | Promise<ReplayAnswer>;
}

/** The core's in-memory store (`memoryReplayStore`). */
export interface MemoryReplayStore extends ReplayStore {
  record(proof: ProofUse): ReplayAnswer;
  /** Entries held (expired ones leave on their bucket's next write). */
  readonly size: number;
}

/** Verifies tokens against a policy. Synchronous; keep one per process (it holds the cache). */
export class Verifier {
  /** Throws EdgewardError ERR_POLICY_INVALID naming the field. */
  constructor(policy: Policy | string, options?: VerifierOptions);
  /** The providers' names. */
  readonly providers: string[];
  /** How many verified tokens the cache holds. */
  readonly cachedTokens: number;
  /** Whether RSA, P-384 and P-521 signatures go to `node:crypto` (Node, unless `{ hostCrypto: false }`; never in browsers). */
  readonly hostCrypto: boolean;
  /** How many usable keys `provider` has (`undefined`: no key set yet). */
  keyCount(provider: string): number | undefined;
  /**
   * Replaces `provider`'s keys; returns the number of usable keys. Unusable keys are left out
   * (`refusedKeys`); throws ERR_JWKS_INVALID when no key is usable.
   */
  setJwks(provider: string, jwks: JwksDocument | string | Uint8Array | ArrayBuffer): number;
  /** Keys left out of `provider`'s last JWKS as unusable: `"keys[1].x: why"`. */
  refusedKeys(provider: string): readonly string[];
  /** Verifies a token, or throws EdgewardError. */
  verify(token: string, options?: VerifyOptions): VerifyResult;
  /**
   * Decides a request by the policy's rules, or throws EdgewardError (see its `denial`). An answer
   * with `proof` may be acted on only once a replay store recorded the proof as new (the
   * middleware does): else refuse it with `proofRefusal`.
   */
  authorize(
    method: string,
    path: string,
    headers: RequestHeaders,
    options?: AuthorizeOptions,
  ): AuthorizeResult & { record?: DecisionRecord };
  /**
   * Authenticates a request without the policy's rules (what `authenticate` asks): the token of
   * `options.provider` (default: the only one, else by `iss`), verified, proof of possession
   * checked; throws EdgewardError (ERR_JWT_MISSING without a token).
   */
  authenticate(
    method: string,
    path: string,
    headers: RequestHeaders,
    options?: Omit<AuthorizeOptions, 'caseInsensitive'> & { provider?: string },
  ): AuthorizeResult & { record?: DecisionRecord };
  /**
   * The token `req` carries for `options.provider` (default: the only provider), found by its
   * `from_headers` as the middleware finds it, or undefined: for code that calls `verify()`.
   */
  bearerToken(req: MiddlewareRequest | FastifyLikeRequest | RequestHeaders, options?: { provider?: string }): string | undefined;
  /**
   * The core's refusal of an answer whose proof the store held (`'replayed'`: ERR_DPOP_REPLAYED)
   * or could not record (`'unavailable'`: ERR_REPLAY_STORE_UNAVAILABLE, 503, with `cause`).
   */
  proofRefusal(
    answer: AuthorizeResult & { record?: DecisionRecord },
    why: 'replayed' | 'unavailable',
    cause?: unknown,
  ): EdgewardError;
  /** Whether the policy needs every request's client certificate (mtls/any, bind_subject_to_peer, peers). */
  readonly readsPeerCertificates: boolean;
  /** The in-memory replay store the middleware uses unless given one (one per verifier). */
  readonly replayStore: MemoryReplayStore;
  /** `provider`'s `remote_jwks` from the policy (with defaults filled in), if it has one. */
  remoteJwksPolicy(provider: string): RemoteJwksSettings | undefined;
  /** The providers whose tokens the matching rule takes: one, or each alternative of a `requires_any` (`[]`: public or no rule). */
  routeProviders(method: string, path: string): string[];
  /** Releases the wasm memory now (the garbage collector does it otherwise). */
  free(): void;
}

// ---------------------------------------------------------------------------------------------
// Remote JWKS

/** A provider's `remote_jwks` with the defaults filled in (`Verifier.remoteJwksPolicy`). */
export interface RemoteJwksSettings {
  /** The JWKS URI, or with `discovery` the discovery document's (the default filled in). */
  uri: string;
  cache_duration_seconds: number;
  timeout_ms: number;
  refetch_cooldown_seconds: number;
  /** Present (true) only with `remote_jwks.discovery`. */
  discovery?: true;
  /** With `discovery` only: the issuer the discovery document must name exactly. */
  issuer?: string;
}

/** What `createRemoteJwks` needs from a fetch Response. */
export interface JwksResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> } } | null;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A fetch function (the runtime's `fetch` fits). */
export type JwksFetch = (
  url: string,
  init: { signal: AbortSignal; redirect: 'error'; headers: Record<string, string> },
) => Promise<JwksResponse>;

/**
 * Options in milliseconds, named as jose's createRemoteJWKSet. Defaults come from the provider's
 * `remote_jwks` in the policy when it has one.
 */
export interface RemoteJwksOptions {
  /** Least time between two fetches triggered by an unknown `kid`. Default: refetch_cooldown_seconds, else 30000. */
  cooldownDuration?: number;
  /** Keys older than this are refetched before use. Default: cache_duration_seconds, else 300000. */
  cacheMaxAge?: number;
  /** One fetch's time limit. Default: timeout_ms, else 2000. */
  timeoutDuration?: number;
  /** Default: the runtime's `fetch`. */
  fetch?: JwksFetch;
}

/**
 * One provider's keys, fetched from its JWKS URI into the verifier (with `remote_jwks.discovery`:
 * from the `jwks_uri` of its discovery document, fetched and checked first on every refresh).
 */
export class RemoteJwks {
  private constructor();
  readonly provider: string;
  /** The JWKS URI; with discovery, the `jwks_uri` of the current keys (undefined before the first). */
  readonly uri: string | undefined;
  /** With `remote_jwks.discovery` (and no `uri` argument): the discovery document's URI. */
  readonly discoveryUri: string | undefined;
  /**
   * Resolves with the number of usable keys once the first key set is loaded; rejects with
   * EdgewardError ERR_JWKS_UNAVAILABLE (its `cause` says why) if the first fetch fails. Retries
   * go on in the background, 1 s, 2 s, 4 s … 30 s apart, as in the Envoy filter.
   */
  readonly ready: Promise<number>;
  /** Fetches started so far. */
  readonly fetches: number;
  /** Why the last fetch failed (ERR_JWKS_UNAVAILABLE, with the cause); undefined after a success. */
  readonly lastError: EdgewardError | undefined;
  /** Keys of the last good document left out as unusable: `"keys[1].x: why"`. */
  readonly lastWarnings: readonly string[];
  /** Consecutive failed fetches (0 after a success). */
  readonly failures: number;
  /** Milliseconds until the next background retry, or undefined when none is pending. */
  readonly retryIn: number | undefined;
  /** Whether the keys are younger than cacheMaxAge. */
  readonly fresh: boolean;
  /** Stops the background retries. */
  close(): void;
  /** Fetches now, or joins the fetch under way; resolves to the number of usable keys. */
  reload(): Promise<number>;
  /** Waits for keys; refetches once (cooldown permitting) for an unknown key. */
  verify(token: string, options?: Omit<VerifyOptions, 'provider'>): Promise<VerifyResult>;
  /** Used by the middleware: waits for a fetch under way, refreshes stale keys. */
  ensureFresh(): Promise<void>;
  /** Used by the middleware: refetches once unless cooling down; whether keys may have changed. */
  refetchForUnknownKey(): Promise<boolean>;
}

/**
 * Fetches `provider`'s JWKS from `uri` (default: the policy's `remote_jwks.uri`, or with
 * `remote_jwks.discovery` the `jwks_uri` of the discovery document) into `verifier`, now and
 * whenever keys are stale or unknown.
 */
export function createRemoteJwks(
  verifier: Verifier,
  provider: string,
  uri?: string | URL | null,
  options?: RemoteJwksOptions,
): RemoteJwks;

// ---------------------------------------------------------------------------------------------
// Middleware

/** What the middleware reads from a request (node:http's IncomingMessage fits). */
export interface MiddlewareRequest {
  method?: string;
  url?: string;
  /** Express: the full path of a mounted router. */
  originalUrl?: string;
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Every header as sent (name, value, …): repeated headers (two `DPoP`) stay apart. */
  rawHeaders?: readonly string[];
  /** The connection: its scheme, and on TLS the client certificate (node:tls's TLSSocket fits). */
  socket?: MiddlewareSocket | null;
  /** Set by the middleware: the verified token, or undefined on a public route. */
  auth?: VerifyResult;
}

/** What the middleware reads from a request's socket (node:net's Socket and node:tls's TLSSocket fit). */
export interface MiddlewareSocket {
  /** True on TLS. */
  encrypted?: boolean;
  /** Whether the client certificate verified against the server's CAs. */
  authorized?: boolean;
  getPeerCertificate?(): { raw?: Uint8Array; subjectaltname?: string } | null;
  remoteAddress?: string;
}

/** What the middleware writes on a refusal (node:http's ServerResponse fits). */
export interface MiddlewareResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export type Middleware = ((req: MiddlewareRequest, res: MiddlewareResponse, next?: (error?: unknown) => void) => void) & {
  /** The logger the `decisionLog` option made (absent without it). */
  readonly decisionLog?: DecisionLogger;
};

export interface MiddlewareOptions {
  /** Unix seconds; default the clock (for tests). */
  now?: () => number;
  /**
   * Whether the application routes paths case-sensitively. Default: false behind Express (its
   * routers ignore case), so every rule is matched case-insensitively there; true elsewhere
   * (node:http, Fastify), so the policy's own `case_sensitive` decides.
   */
  caseSensitive?: boolean;
  /**
   * Called with every decision's record (allowed and refused; docs/policy.md, "Decision record"),
   * e.g. for an audit log. When given, a granted `req.auth` carries the same record as `decision`.
   * A refusal comes with its error (for logs: its message, and the `cause` of a replay store's
   * failure); never a token.
   */
  onDecision?: (record: DecisionRecord, req: MiddlewareRequest, error?: EdgewardError) => void;
  /**
   * Append every decision's line (the core's decision line, as Envoy's access log writes it with
   * envoy/decision-log.yaml) to this file, or write it to this stream: `decisionLogger(decisionLog)`,
   * called before `onDecision`. The logger is the middleware's `decisionLog`.
   */
  decisionLog?: string | DecisionLogStream;
  /**
   * Where the DPoP proofs the core accepted are recorded before a request goes on. Default the
   * verifier's in-memory store (`verifier.replayStore`); several instances need a shared one
   * (`redisReplayStore`).
   */
  replayStore?: ReplayStore;
  /**
   * How long a store's promise may take (milliseconds, every store): no answer by then refuses
   * the request, 503 ERR_REPLAY_STORE_UNAVAILABLE, its `cause` saying it timed out (`code`
   * `ETIMEDOUT`); a late answer is ignored. Default 1000; at most 2147483647.
   */
  replayTimeoutMs?: number;
  /**
   * Shapes a refusal's body: an object (sent as JSON), a string (as text), or undefined (the
   * core's body). Status, WWW-Authenticate and the other headers stay the core's; a hook that
   * throws leaves the core's body.
   */
  onRefusal?: RefusalShaper;
}

/** What one decision was: who, holding what, by which rule, and the answer. Never the token. */
export interface DecisionRecord {
  readonly provider?: string;
  readonly iss?: string;
  readonly sub?: string;
  /** `client_id` (RFC 9068), else `azp`. */
  readonly client_id?: string;
  readonly scopes: readonly string[];
  /** The rule's `name`, else its index in `rules` (absent: no rule matched). */
  readonly rule?: string;
  /** The refusal's code (absent: allowed). */
  readonly code?: ErrorCode;
  /** The status edgeward answered, or 200 when it let the request through. */
  readonly status: number;
  /** The scopes of the requirement that decided (that let the token through, or whose refusal it is). */
  readonly required_scopes: readonly string[];
  /** The verified token's `iat` and `exp`, whole seconds. */
  readonly iat?: number;
  readonly exp?: number;
}

/** Where a decision log writes: a node:fs WriteStream, process.stdout, or anything with `write`. */
export interface DecisionLogStream {
  write(text: string): unknown;
  readonly writableLength?: number;
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

/** An `onDecision` writing each decision's line (`decisionLogger`). */
export interface DecisionLogger {
  (record: DecisionRecord, req: MiddlewareRequest, error?: EdgewardError): void;
  /** Lines not written: the stream held over 8 MiB unwritten, or the file failed. */
  readonly dropped: number;
  /** Why the file failed, if it did. */
  readonly error?: Error;
  /** Closes a file the logger opened (a stream it was given stays open). */
  close(): Promise<void>;
}

/**
 * Writes each decision's line (docs/policy.md, "Decision record"), one JSON object per line, to a
 * file (appended; Node only) or a stream; pass it as `onDecision`. `now()` gives Unix milliseconds.
 */
export function decisionLogger(target: string | DecisionLogStream, options?: { now?: () => number }): DecisionLogger;

/**
 * `(req, res, next)` for node:http and Express: 401/403/503 as docs/policy.md says, `req.auth` when
 * granted, and the core's header changes applied to `req.headers` / `req.rawHeaders` first.
 */
export function middleware(verifier: Verifier, options?: MiddlewareOptions): Middleware;

/** What the guards and the Fastify plugin read from a Fastify request (FastifyRequest fits). */
export interface FastifyLikeRequest {
  /** The node:http request: its URL as sent, headers, socket. */
  raw: MiddlewareRequest;
  url: string;
  auth?: VerifyResult;
}

/** What the guards and the Fastify plugin answer a refusal through (FastifyReply fits). */
export interface FastifyLikeReply {
  raw: MiddlewareResponse;
  code(statusCode: number): unknown;
  header(name: string, value: string): unknown;
  send(body: string): unknown;
}

/**
 * A request handler for node:http and Express (`(req, res, next)`: next() when it lets the request
 * through, next(error) only for failures, refusals answered directly) that is also a Fastify hook
 * (`(request, reply)`: a promise; refusals answered through `reply`).
 */
export interface Guard {
  (req: MiddlewareRequest, res: MiddlewareResponse, next?: (error?: unknown) => void): void;
  (request: FastifyLikeRequest, reply: FastifyLikeReply): Promise<unknown>;
  /** The logger the `decisionLog` option made (absent without it). */
  readonly decisionLog?: DecisionLogger;
}

/** The body of a refusal instead of the core's (an object as JSON, a string as text); undefined: the core's. */
export type RefusalShaper = (
  error: EdgewardError,
  req: MiddlewareRequest | FastifyLikeRequest,
) => Readonly<Record<string, JsonValue>> | string | undefined;

export interface AuthenticateOptions extends Omit<MiddlewareOptions, 'caseSensitive'> {
  /** Whose token: default the policy's only provider, else the one the token's `iss` names. */
  provider?: string;
}

/**
 * A per-route guard: verifies the request's token (no rules asked), proof of possession included,
 * puts it on `req.auth` (Fastify: `request.auth`), refuses as the core maps it.
 */
export function authenticate(verifier: Verifier, options?: AuthenticateOptions): Guard;

/** After `authenticate` (or the middleware): every scope, else 403 ERR_SCOPE_INSUFFICIENT (decided by the core). */
export function requireScopes(...scopes: (string | readonly string[])[]): Guard;
export function requireScopes(scopes: string | readonly string[], options: { onRefusal?: RefusalShaper }): Guard;

/** After `authenticate` (or the middleware): each claim one of its values, else 403 ERR_PRINCIPAL_DENIED. */
export function requireClaims(
  claims: Readonly<Record<string, readonly (string | number | boolean)[]>>,
  options?: { onRefusal?: RefusalShaper },
): Guard;

/**
 * After `authenticate` (or the middleware): the TLS client certificate, verified against the
 * server's CAs, names one of these peers (its first URI SAN, e.g. a SPIFFE ID), else 403
 * ERR_PEER_DENIED (decided by the core, as a rule's `requires.peers`).
 */
export function requirePeers(...peers: (string | readonly string[])[]): Guard;
export function requirePeers(peers: string | readonly string[], options: { onRefusal?: RefusalShaper }): Guard;

export interface FastifyPluginOptions extends MiddlewareOptions {
  verifier: Verifier;
  /** true: the token only for every route of the scope (`authenticate`), not the policy's rules. */
  authenticate?: boolean;
  /** Whose token with `authenticate: true`. */
  provider?: string;
}

/**
 * The Fastify plugin: `app.register(fastify, { verifier })` adds an onRequest hook to the scope it
 * is registered in (marked as fastify-plugin marks plugins) and decorates `request.auth`.
 * `import 'edgeward/fastify'` (or its default export, this plugin) types `request.auth`.
 */
export const fastify: {
  (instance: FastifyPluginHost, options: FastifyPluginOptions, done: (error?: Error) => void): void;
  readonly default: typeof fastify;
};

/** What the plugin uses of a Fastify instance (FastifyInstance fits). */
export interface FastifyPluginHost {
  hasRequestDecorator(name: string): boolean;
  decorateRequest(name: string, value: undefined): unknown;
  addHook(name: 'onRequest', hook: (request: FastifyLikeRequest, reply: FastifyLikeReply) => Promise<unknown>): unknown;
}

/** The core's in-memory replay store: `buckets` (default 1024) of `entriesPerBucket` (default 64). */
export function memoryReplayStore(options?: { buckets?: number; entriesPerBucket?: number }): MemoryReplayStore;

/** A node-redis (v4 and later) client, as far as the store uses it. */
export interface NodeRedisClient {
  set(key: string, value: string, options: { NX: true; EX: number }): PromiseLike<string | null>;
}

/** An ioredis client, as far as the store uses it. */
export interface IoRedisClient {
  set(key: string, value: string, ex: 'EX', seconds: number, nx: 'NX'): PromiseLike<string | null>;
}

export interface RedisReplayStoreOptions {
  /** Prefixes every key (`edgeward:dpop:…`). Default `edgeward:`. */
  prefix?: string;
  /**
   * Not an option (a TypeError): how long a command may go unanswered is the middleware's
   * `replayTimeoutMs`, one bound for every store. Set the client's own timeouts too, so commands
   * do not queue while Redis is away.
   */
  timeoutMs?: never;
  /** Which client it is; default told by its API (ioredis has `defineCommand`). */
  api?: 'node-redis' | 'ioredis';
}

/** A replay store in Redis for several instances: `SET <prefix><key> 1 NX EX <ttlSeconds>`. */
export function redisReplayStore(client: NodeRedisClient | IoRedisClient, options?: RedisReplayStoreOptions): ReplayStore;

// ---------------------------------------------------------------------------------------------
// Tools

/** A token's header and claims, parsed strictly but NOT verified. Throws ERR_JWT_INVALID. */
export function decodeUnverified(token: string): { header: JoseHeader; claims: Claims };

/** Every stable error code. */
export function errorCodes(): ErrorCode[];

/** The wasm module's memory in bytes (it never shrinks; for leak checks). */
export function wasmMemoryBytes(): number;

// Express: `req.auth` on every Request (Express's types merge this global namespace; without
// @types/express it declares nothing anyone uses). node:http and Fastify: `import 'edgeward/node'`
// and `import 'edgeward/fastify'` (their module augmentations need @types/node and fastify).
declare global {
  namespace Express {
    interface Request {
      /** Set by edgeward's middleware or `authenticate`: the verified token (undefined on a public route). */
      auth?: VerifyResult;
    }
  }
}
