// The public API of the npm package `edgeward`, over the wasm-bindgen glue (js/src/lib.rs).
//
// Written once, without import/export: js/build.sh wraps it as CommonJS (pkg/api.cjs, for
// require and import on Node) and as an ES module (pkg-web/api.mjs, for browsers).
// `makeApi(bindings, platform)` takes the generated module and returns the exports; on Node,
// `platform.crypto` is `node:crypto`, which then verifies RSA signatures (below).
//
// Every decision (policy, keys, verification, routes, HTTP answers) is the core's. This file only
// converts arguments, turns the core's errors into EdgewardError, fetches JWKS documents and
// writes HTTP answers the core has decided. Proof of possession likewise: the middleware reads
// the connection (scheme, authority, client certificate) and records each DPoP proof the core
// names in a replay store; the core checks the proof and the binding, and says how to refuse.

function makeApi(bindings, platform = {}) {
  const { Core, ReplayStore } = bindings;

  // RS256/384/512, PS256/384/512, ES384 and ES512 signatures through node:crypto (OpenSSL),
  // several times faster than the same in wasm. The core checks everything else before it asks
  // (the key, the hash the algorithm names, the signature's length and range; src/host_crypto.rs)
  // and refuses the request (ERR_HOST_CRYPTO_FAILED) if this throws. Browsers keep the core's own.
  const hostCrypto = platform.crypto === undefined ? null : nodeHostCrypto(platform.crypto);
  if (hostCrypto !== null) bindings.install_host_crypto(hostCrypto);

  // `verify`/`authorize` answers from the glue: 0 refused, 1 public route, 2 a verified token too
  // large to remember (over 8 KiB; neither the core's cache nor the memo keeps it), >= 3 a token number.
  const REFUSED = 0;
  const PUBLIC = 1;
  const UNREMEMBERED = 2;
  // Token numbers whose decoded result is kept (the glue remembers 1024; more would never hit).
  const REMEMBERED_RESULTS = 1024;
  const NEEDS_KEYS = new Set(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_UNAVAILABLE']);
  const encoder = new TextEncoder();
  const remotes = new WeakMap(); // Verifier -> Map(provider -> RemoteJwks)

  /** A refusal from edgeward: a token, a key set or a policy. `code` is stable. */
  class EdgewardError extends Error {
    constructor(info, options) {
      super(info.message, options);
      this.name = 'EdgewardError';
      this.code = info.code;
      if (info.claim != null) this.claim = info.claim;
      if (info.path != null) this.path = info.path;
      if (info.line != null) this.line = info.line;
      if (info.column != null) this.column = info.column;
      // How the middleware (and the Envoy filter) answer it; from the core's one mapping.
      Object.defineProperty(this, 'denial', {
        enumerable: false,
        value: Object.freeze({
          status: info.status,
          wwwAuthenticate: info.www_authenticate ?? undefined,
          retryAfter: info.retry_after ?? undefined,
          error: info.error,
          body: info.body,
          headers: Object.freeze((info.headers ?? []).map((pair) => Object.freeze(pair))),
        }),
      });
    }
  }

  function errorFrom(json, options) {
    return new EdgewardError(JSON.parse(json), options);
  }

  // The glue throws an error's JSON text; anything else is a bug or a JS error (rethrown).
  function rethrow(thrown) {
    if (typeof thrown === 'string' && thrown.startsWith('{')) throw errorFrom(thrown);
    if (typeof thrown === 'string') throw new TypeError(thrown);
    throw thrown;
  }

  function deepFreeze(value) {
    if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) deepFreeze(value[key]);
      Object.freeze(value);
    }
    return value;
  }

  function nowSeconds(now) {
    if (now === undefined) return Math.floor(Date.now() / 1000);
    if (now instanceof Date) {
      const ms = now.getTime();
      if (!Number.isFinite(ms)) throw new TypeError('now must be a valid Date');
      return Math.floor(ms / 1000);
    }
    if (!Number.isSafeInteger(now)) throw new TypeError('now must be Unix seconds (a safe integer) or a Date');
    return now;
  }

  // Required scopes cross as one string of space-separated words.
  function scopeText(scopes) {
    if (scopes === undefined) return '';
    if (typeof scopes === 'string') return scopes;
    if (!Array.isArray(scopes)) throw new TypeError('scopes must be a string or an array of strings');
    for (const scope of scopes) {
      if (typeof scope !== 'string' || scope === '' || scope.includes(' ')) {
        throw new TypeError('each scope must be a non-empty string without spaces');
      }
    }
    return scopes.join(' ');
  }

  function optionalProvider(provider) {
    if (provider === undefined) return undefined;
    if (typeof provider !== 'string') throw new TypeError('provider must be a string');
    return provider;
  }

  function jwksBytes(jwks) {
    if (typeof jwks === 'string') return encoder.encode(jwks);
    if (jwks instanceof Uint8Array) return jwks;
    if (jwks instanceof ArrayBuffer) return new Uint8Array(jwks);
    if (jwks !== null && typeof jwks === 'object') return encoder.encode(JSON.stringify(jwks));
    throw new TypeError('jwks must be an object, a JSON string or bytes');
  }

  const NO_CHANGES = Object.freeze({ remove: Object.freeze([]), set: Object.freeze([]) });

  // The header pairs as the core takes them: UTF-8 bytes (one copy into wasm memory, where the
  // generated glue would copy a string character by character), written into one buffer that
  // grows as needed and is handed over as a view: the glue copies it before this returns.
  // Headers larger than the kept buffer get one of their own, not kept.
  const utf8 = new TextEncoder();
  const KEPT_HEADER_BYTES = 64 * 1024;
  const scratch = new Uint8Array(KEPT_HEADER_BYTES);
  function headerBytes(headers, names) {
    const pairs = headerPairs(headers, names);
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const into = pairs.length * 3 <= scratch.length ? scratch : new Uint8Array(pairs.length * 3);
    const { written } = utf8.encodeInto(pairs, into);
    return into.subarray(0, written);
  }

  // Every request header as `name\0value` pairs for the core (it decides which to read and which
  // to remove); a lookup function can only answer for `names`.
  function headerPairs(headers, names) {
    let pairs = '';
    const add = (name, value) => {
      if (value === undefined) return;
      pairs += (pairs === '' ? '' : '\0') + name + '\0' + value;
    };
    if (typeof headers === 'function' || headers == null) {
      for (const name of names) add(name, headerValue(headers, name));
    } else if (Array.isArray(headers)) {
      // Node's req.rawHeaders: [name, value, name, value, …], every repeat kept (req.headers
      // keeps only the first Authorization; the core sees them all and fails closed).
      for (let i = 0; i + 1 < headers.length; i += 2) add(String(headers[i]).toLowerCase(), cleanValue(headers[i + 1]));
    } else if (typeof headers.entries === 'function' && typeof headers.get === 'function') {
      for (const [name, value] of headers.entries()) add(name.toLowerCase(), cleanValue(value));
    } else {
      for (const key of Object.keys(headers)) add(key.toLowerCase(), cleanValue(headers[key]));
    }
    return pairs;
  }

  // A repeated header is joined (as HTTP does), which no token survives: fail closed. NUL
  // separates the pairs, so a NUL inside a value crosses as U+FFFD: still seen (and removed or
  // refused), never trusted.
  function cleanValue(value) {
    if (Array.isArray(value)) value = value.join(', ');
    if (value == null) return undefined;
    value = String(value);
    return value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
  }

  function headerValue(headers, name) {
    let value;
    if (typeof headers === 'function') value = headers(name);
    else if (headers == null) value = undefined;
    else if (typeof headers.get === 'function') value = headers.get(name);
    else {
      value = headers[name];
      if (value === undefined) {
        for (const key of Object.keys(headers)) {
          if (key.toLowerCase() === name) {
            value = headers[key];
            break;
          }
        }
      }
    }
    return cleanValue(value);
  }

  // `authorize`'s `connection` as the glue's four optional arguments (undefined: not known).
  function connectionArgs(connection) {
    if (connection === undefined) return [undefined, undefined, undefined, undefined];
    if (connection === null || typeof connection !== 'object') throw new TypeError('connection must be an object');
    const { scheme, authority, peerCertificate, peerUriSan } = connection;
    for (const [name, value] of [['scheme', scheme], ['authority', authority], ['peerUriSan', peerUriSan]]) {
      if (value !== undefined && typeof value !== 'string') throw new TypeError(`connection.${name} must be a string`);
    }
    if (peerCertificate !== undefined && !(peerCertificate instanceof Uint8Array)) {
      throw new TypeError('connection.peerCertificate must be the DER bytes (a Uint8Array or Buffer)');
    }
    return [scheme, authority, peerCertificate, peerUriSan];
  }

  // The proof's time of decision: what it must be kept for is counted from there.
  const decidedAt = (proof) => proof.expiresAt - proof.ttlSeconds;

  /**
   * The core's in-memory replay store (bounded buckets: a full bucket refuses a proof, 503,
   * rather than forget one). Each process has its own: for several instances, use a shared
   * store (`redisReplayStore`). `buckets` and `entriesPerBucket` default to 1024 and 64.
   */
  function memoryReplayStore(options = {}) {
    const { buckets, entriesPerBucket } = options;
    for (const [name, value] of [['buckets', buckets], ['entriesPerBucket', entriesPerBucket]]) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1 && value <= 0xffffffff)) {
        throw new TypeError(`${name} must be a positive integer`);
      }
    }
    const cache = new ReplayStore(buckets, entriesPerBucket);
    return {
      record(proof) {
        return cache.record(proof.key, proof.expiresAt, decidedAt(proof));
      },
      get size() {
        return cache.size();
      },
    };
  }

  /** Verifies tokens against a policy (the same JSON the Envoy filter and the CLI read). */
  class Verifier {
    #core;
    #results = new Map();
    #headerNames;
    // Memo of successful verify() calls: token -> { provider, scopes, now, record }. The core's
    // verify is a pure function of (token, provider, scopes, now, policy, key sets); the policy
    // never changes and setJwks empties the memo, so a call with the same token, provider,
    // scopes and second gets the answer the core gave, without crossing into wasm. Off when the
    // policy turns the token cache off (token_cache_size: 0) or with { memoize: false }.
    #memo = null;
    #memoSize = 0;
    #refused = new Map(); // provider -> keys left out of its last JWKS
    #hostCrypto = false;
    #replayStore = null;
    #readsPeers;

    constructor(policy, options) {
      let text;
      if (typeof policy === 'string') text = policy;
      else if (policy !== null && typeof policy === 'object') text = JSON.stringify(policy);
      else throw new TypeError('policy must be an object or a JSON string');
      try {
        this.#core = new Core(text);
      } catch (thrown) {
        rethrow(thrown);
      }
      this.#headerNames = JSON.parse(this.#core.header_names());
      this.#readsPeers = this.#core.reads_peer_certificates();
      const memoize = options === undefined || options.memoize === undefined ? true : options.memoize;
      if (typeof memoize !== 'boolean') throw new TypeError('memoize must be a boolean');
      // { hostCrypto: false } keeps every signature in the core's wasm (as in browsers).
      const host = options === undefined || options.hostCrypto === undefined ? true : options.hostCrypto;
      if (typeof host !== 'boolean') throw new TypeError('hostCrypto must be a boolean');
      this.#hostCrypto = host && hostCrypto !== null && this.#core.use_host_crypto();
      this.#memoSize = Math.min(REMEMBERED_RESULTS, this.#core.cache_capacity());
      if (memoize && this.#memoSize > 0) this.#memo = new Map();
    }

    /** The providers' names. */
    get providers() {
      return JSON.parse(this.#core.provider_names());
    }

    /** Whether RSA, P-384 and P-521 signatures go to `node:crypto` (Node, unless `{ hostCrypto: false }`). */
    get hostCrypto() {
      return this.#hostCrypto;
    }

    /**
     * Whether the policy needs every request's client certificate (`proof_of_possession` `mtls` or
     * `any`, `bind_subject_to_peer`, `peers`); otherwise the middleware reads one only for a token
     * refused for the lack of it.
     */
    get readsPeerCertificates() {
      return this.#readsPeers;
    }

    /** The replay store the middleware uses unless given one: in memory, one per verifier. */
    get replayStore() {
      return (this.#replayStore ??= memoryReplayStore());
    }

    /** How many verified tokens the cache holds. */
    get cachedTokens() {
      return this.#core.cached_tokens();
    }

    /** How many usable keys `provider` has now (`undefined`: none loaded yet). */
    keyCount(provider) {
      const count = this.#core.key_count(String(provider));
      return count < 0 ? undefined : count;
    }

    /**
     * Replaces `provider`'s keys; returns how many usable keys the set holds. Unusable keys are
     * left out (see `refusedKeys`); a refused document (malformed, or without a single usable
     * key) leaves the current keys in place.
     */
    setJwks(provider, jwks) {
      if (typeof provider !== 'string') throw new TypeError('provider must be a string');
      const bytes = jwksBytes(jwks);
      if (this.#memo !== null) this.#memo.clear();
      let loaded;
      try {
        loaded = JSON.parse(this.#core.set_jwks(provider, bytes));
      } catch (thrown) {
        return rethrow(thrown);
      }
      this.#refused.set(provider, Object.freeze(loaded.refused));
      return loaded.keys;
    }

    /** The keys left out of `provider`'s last JWKS as unusable: `["keys[1].x: why", …]`. */
    refusedKeys(provider) {
      return this.#refused.get(String(provider)) ?? [];
    }

    /** Verifies `token`; returns `{ provider, header, claims, scopes }` or throws EdgewardError. */
    verify(token, options) {
      let provider;
      let scopes = '';
      let now;
      if (options !== undefined) {
        provider = optionalProvider(options.provider);
        scopes = scopeText(options.scopes);
        now = options.now;
      }
      now = nowSeconds(now);
      const memo = this.#memo;
      if (memo !== null) {
        const hit = memo.get(token);
        if (hit !== undefined && hit.now === now && hit.scopes === scopes && hit.provider === provider) {
          return fresh(hit.record);
        }
      }
      let id;
      try {
        id = this.#core.verify(typeof token === 'string' ? token : '', provider, scopes, now);
      } catch (thrown) {
        rethrow(thrown);
      }
      if (id === REFUSED) throw this.#error();
      const record = this.#record(id);
      if (memo !== null && id !== UNREMEMBERED) {
        memo.delete(token);
        memo.set(token, { provider, scopes, now, record });
        if (memo.size > this.#memoSize) memo.delete(memo.keys().next().value);
      }
      return fresh(record);
    }

    /**
     * Decides a request by the policy's rules: `{ access: 'public', remove, set }` or `{ access:
     * 'granted', result, remove, set }` (the header changes the request needs before a handler
     * sees it: names to remove, `[name, value]` pairs to set), or throws EdgewardError (its
     * `denial` is the HTTP answer). `headers`: an object of lowercase names (Node's
     * `req.headers`), a `Headers`, or a lookup function. `connection` (`{ scheme, authority,
     * peerCertificate, peerUriSan }`) is what the TLS layer knows, for proof of possession; an
     * answer with `proof` may be acted on only once a replay store recorded it (`proofRefusal`).
     */
    authorize(method, path, headers, options) {
      const caseInsensitive = options === undefined || options.caseInsensitive === undefined ? false : options.caseInsensitive;
      if (typeof caseInsensitive !== 'boolean') throw new TypeError('caseInsensitive must be a boolean');
      return this.#decideRequest(method, path, headers, options, (pairs, now, wantRecord, connection) =>
        this.#core.decide(method, path, pairs, now, caseInsensitive, wantRecord, ...connection));
    }

    /**
     * Authenticates a request without the policy's rules (what the `authenticate` guard asks):
     * the token of `options.provider` (default: the only provider, else the one the token's
     * `iss` names) from its `from_headers`, verified, its proof of possession checked with the
     * `DPoP` header and `connection`. Answers as `authorize` does (`access` is always
     * 'granted'), or throws EdgewardError (ERR_JWT_MISSING without a token).
     */
    authenticate(method, path, headers, options) {
      const provider = optionalProvider(options === undefined ? undefined : options.provider);
      return this.#decideRequest(method, path, headers, options, (pairs, now, wantRecord, connection) =>
        this.#core.authenticate(provider, method, path, pairs, now, wantRecord, ...connection));
    }

    /**
     * The token a request carries for `options.provider` (default: the policy's only provider),
     * found by its `from_headers` exactly as the middleware finds it (`Authorization: Bearer …`,
     * `DPoP …` where DPoP is allowed, custom headers), or `undefined`. `req`: a node:http, Express
     * or Fastify request, a `Headers`, or an object of headers. For code that calls `verify()`.
     */
    bearerToken(req, options) {
      let provider = optionalProvider(options === undefined ? undefined : options.provider);
      const providers = this.providers;
      if (provider === undefined) {
        if (providers.length !== 1) throw new TypeError('the policy has several providers: pass { provider }');
        provider = providers[0];
      } else if (!providers.includes(provider)) {
        throw new TypeError(`unknown provider ${JSON.stringify(provider)}`);
      }
      // A request (node:http, Express, Fastify's `raw`): its raw headers, else its headers; else
      // `req` is the headers (a Headers, an object, a lookup function).
      let headers = req;
      if (req != null && typeof req === 'object') {
        const raw = req.raw != null && typeof req.raw === 'object' ? req.raw : req;
        if (Array.isArray(raw.rawHeaders)) headers = raw.rawHeaders;
        else if (raw.headers != null && typeof raw.headers === 'object') headers = raw.headers;
      }
      return this.#core.extract_token(provider, headerBytes(headers, this.#headerNames)) ?? undefined;
    }

    // authorize and authenticate: the arguments checked, the core asked (`ask(pairs, now,
    // wantRecord, connection)`), the answer built.
    #decideRequest(method, path, headers, options, ask) {
      if (typeof method !== 'string' || typeof path !== 'string') {
        throw new TypeError('method and path must be strings');
      }
      const connection = connectionArgs(options === undefined ? undefined : options.connection);
      const now = nowSeconds(options === undefined ? undefined : options.now);
      const wantRecord = options !== undefined && options.record === true;
      const pairs = headerBytes(headers, this.#headerNames);
      let id;
      try {
        id = ask(pairs, now, wantRecord, connection);
      } catch (thrown) {
        rethrow(thrown);
      }
      // The decision record (docs/policy.md, "Decision record"): on the answer, or on the error.
      const record = wantRecord ? Object.freeze(JSON.parse(this.#core.take_record())) : undefined;
      if (id === REFUSED) {
        const error = this.#error();
        if (record !== undefined) Object.defineProperty(error, 'record', { value: record, enumerable: false });
        throw error;
      }
      const { remove, set } = this.#changes(this.#core.take_changes());
      const answer = id === PUBLIC ? { access: 'public', remove, set } : { access: 'granted', result: fresh(this.#record(id)), remove, set };
      if (record !== undefined) answer.record = record;
      // Only a granted answer can have used a proof.
      const proof = id === PUBLIC ? '' : this.#core.take_proof();
      if (proof !== '') answer.proof = Object.freeze(JSON.parse(proof));
      return answer;
    }

    /**
     * The core's refusal of an `authorize` answer whose `proof` the replay store already held
     * (`'replayed'`: ERR_DPOP_REPLAYED, 401 with the DPoP challenge) or could not record
     * (`'unavailable'`: ERR_REPLAY_STORE_UNAVAILABLE, 503; `cause` says why, for logs). Its
     * `record` is the answer's, refused.
     */
    proofRefusal(answer, why, cause) {
      if (answer === null || typeof answer !== 'object' || answer.proof === undefined || answer.result === undefined) {
        throw new TypeError('proofRefusal needs an authorize answer with a proof');
      }
      if (why !== 'replayed' && why !== 'unavailable') throw new TypeError("why must be 'replayed' or 'unavailable'");
      const reason = cause === undefined ? 'no reason given' : String(cause instanceof Error ? cause.message : cause);
      const info = JSON.parse(this.#core.proof_refusal(answer.result.provider, why === 'replayed', reason));
      const error = new EdgewardError(info, cause === undefined ? undefined : { cause });
      if (answer.record !== undefined) {
        // The decision record as the refusal left it: the core's code and status.
        const record = Object.freeze({ ...answer.record, code: info.code, status: info.status });
        Object.defineProperty(error, 'record', { value: record, enumerable: false });
      }
      return error;
    }

    /** `provider`'s `remote_jwks` from the policy (uri and durations), if it has one. */
    remoteJwksPolicy(provider) {
      const json = this.#core.remote_jwks(String(provider));
      return json === undefined ? undefined : JSON.parse(json);
    }

    /** The providers whose tokens the rule for this request takes (one, or each alternative of a `requires_any`). */
    routeProviders(method, path) {
      return JSON.parse(this.#core.route_providers(String(method), String(path)));
    }

    /** Releases the wasm memory now (otherwise the garbage collector does it). */
    free() {
      this.#results.clear();
      if (this.#memo !== null) this.#memo.clear();
      this.#core.free();
    }

    [Symbol.for('nodejs.dispose')]() {
      this.free();
    }

    #error() {
      return errorFrom(this.#core.take_error());
    }

    // The header changes' JSON, decoded (frozen): requests of one route and token ask the same
    // changes, so the last text decoded is kept.
    #lastChanges = ['', NO_CHANGES];
    #changes(text) {
      if (text === '') return NO_CHANGES;
      if (text === this.#lastChanges[0]) return this.#lastChanges[1];
      const changes = deepFreeze(JSON.parse(text));
      this.#lastChanges = [text, changes];
      return changes;
    }

    // The same token number is the same verified token: decode its JSON once.
    #record(id) {
      if (id === UNREMEMBERED) return deepFreeze(JSON.parse(this.#core.last_json()));
      let record = this.#results.get(id);
      if (record === undefined) {
        record = deepFreeze(JSON.parse(this.#core.last_json()));
        this.#results.set(id, record);
        if (this.#results.size > REMEMBERED_RESULTS) {
          this.#results.delete(this.#results.keys().next().value);
        }
      }
      return record;
    }
  }

  // A fresh result record each time; its parts are frozen and shared.
  function fresh(record) {
    return { provider: record.provider, header: record.header, claims: record.claims, scopes: record.scopes };
  }
  if (typeof Symbol.dispose === 'symbol') {
    Verifier.prototype[Symbol.dispose] = Verifier.prototype.free;
  }

  function positive(name, value, fallback) {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
      throw new TypeError(`${name} must be a non-negative number of milliseconds`);
    }
    return value;
  }

  const MAX_JWKS_BYTES = 256 * 1024;
  const clock = () => performance.now();
  const ignore = () => {};

  async function readCapped(response, limit, what = 'JWKS') {
    const tooLarge = () => new Error(`${what} response is larger than ${limit} bytes`);
    const length = Number(response.headers.get('content-length'));
    if (Number.isFinite(length) && length > limit) throw tooLarge();
    if (!response.body || typeof response.body.getReader !== 'function') {
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes.length > limit) throw tooLarge();
      return bytes;
    }
    const reader = response.body.getReader();
    const chunks = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) {
        await reader.cancel().catch(ignore);
        throw tooLarge();
      }
      chunks.push(value);
    }
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }

  // The core's remote_jwks defaults, read on first use (the web glue has no module before init()).
  let remoteDefaults;
  const defaultsOfCore = () => (remoteDefaults ??= JSON.parse(bindings.remote_defaults()));

  /**
   * Keys of one provider fetched from its JWKS URI, kept in the verifier, on the Envoy filter's
   * schedule: refreshed after `cacheMaxAge`; a failed fetch retried after 1 s, 2 s, 4 s … 30 s
   * (the core's `retry_delay_ms`) in the background; an unknown `kid` refetches at most once per
   * `cooldownDuration`.
   */
  class RemoteJwks {
    #verifier;
    #provider;
    #uri;
    #discoveryUri = undefined;
    #issuer = undefined;
    #cooldown;
    #maxAge;
    #timeout;
    #fetch;
    #inflight = null;
    #lastAttempt = -Infinity;
    #lastSuccess = -Infinity;
    #lastError = undefined;
    #lastWarnings = [];
    #failures = 0;
    #retryAt = -Infinity;
    #retryTimer = null;
    #fetches = 0;
    #settleReady;

    constructor(verifier, provider, uri, options = {}) {
      if (!(verifier instanceof Verifier)) throw new TypeError('verifier must be an edgeward Verifier');
      if (typeof provider !== 'string' || !verifier.providers.includes(provider)) {
        throw new TypeError(`unknown provider ${JSON.stringify(provider)}`);
      }
      // The policy's remote_jwks gives the defaults (as it does for the Envoy filter), and the
      // core's defaults stand where the policy has none.
      const configured = verifier.remoteJwksPolicy(provider);
      if (uri === undefined || uri === null) {
        if (configured === undefined) throw new TypeError(`provider "${provider}" has no remote_jwks: pass a uri`);
        if (configured.discovery === true) {
          // remote_jwks.discovery: `uri` is the configuration's; the keys' URI comes from it.
          this.#discoveryUri = new URL(configured.uri).href;
          this.#issuer = configured.issuer;
        } else {
          uri = configured.uri;
        }
      }
      if (this.#discoveryUri === undefined) this.#uri = new URL(String(uri)).href;
      this.#verifier = verifier;
      this.#provider = provider;
      const source = configured ?? defaultsOfCore();
      this.#cooldown = positive('cooldownDuration', options.cooldownDuration, source.refetch_cooldown_seconds * 1000);
      this.#maxAge = positive('cacheMaxAge', options.cacheMaxAge, source.cache_duration_seconds * 1000);
      this.#timeout = positive('timeoutDuration', options.timeoutDuration, source.timeout_ms);
      this.#fetch = options.fetch ?? globalThis.fetch;
      if (typeof this.#fetch !== 'function') throw new TypeError('fetch must be a function');
      /**
       * Resolves with the key count once the first key set is loaded; rejects (EdgewardError
       * ERR_JWKS_UNAVAILABLE, with the cause) if the first attempt fails. Retries go on in the
       * background either way.
       */
      this.ready = new Promise((resolve, reject) => {
        this.#settleReady = (error, count) => {
          this.#settleReady = null;
          if (error === undefined) resolve(count);
          else reject(error);
        };
      });
      // Nobody has to await `ready`: a first failure is then no unhandled rejection.
      this.ready.catch(ignore);
      let byProvider = remotes.get(verifier);
      if (byProvider === undefined) remotes.set(verifier, (byProvider = new Map()));
      byProvider.set(provider, this);
      this.reload().catch(ignore);
    }

    get provider() {
      return this.#provider;
    }

    /** The JWKS URI (with discovery: the `jwks_uri` of the current keys, undefined before the first). */
    get uri() {
      return this.#uri;
    }

    /** With `remote_jwks.discovery`: the discovery document's URI (else undefined). */
    get discoveryUri() {
      return this.#discoveryUri;
    }

    /** How many fetches were started. */
    get fetches() {
      return this.#fetches;
    }

    /** Why the last fetch failed (`undefined` after a success). */
    get lastError() {
      return this.#lastError;
    }

    /** Keys the last good document held that were left out as unusable (`["keys[1].x: why"]`). */
    get lastWarnings() {
      return this.#lastWarnings;
    }

    /** Consecutive failed fetches (0 after a success). */
    get failures() {
      return this.#failures;
    }

    /** Milliseconds from now until the next retry of a failed fetch (`undefined`: none pending). */
    get retryIn() {
      return this.#failures === 0 ? undefined : Math.max(0, this.#retryAt - clock());
    }

    /** Whether keys were loaded less than `cacheMaxAge` ago. */
    get fresh() {
      return clock() - this.#lastSuccess < this.#maxAge;
    }

    /** Stops the background retries (keys already loaded stay). */
    close() {
      if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }

    /** Fetches the JWKS now, or joins the fetch under way. Rejects when it fails. */
    reload() {
      if (this.#inflight !== null) return this.#inflight;
      this.#lastAttempt = clock();
      this.#fetches += 1;
      if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
      // The fetch is no longer "under way" before anyone awaiting it (or `ready`) resumes.
      const attempt = this.#load().then(
        (count) => {
          this.#inflight = null;
          this.#failures = 0;
          this.#settleReady?.(undefined, count);
          return count;
        },
        (error) => {
          this.#inflight = null;
          this.#failures += 1;
          const delay = bindings.retry_delay_ms(this.#failures, this.#maxAge);
          this.#retryAt = clock() + delay;
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = null;
            this.reload().catch(ignore);
          }, delay);
          if (typeof this.#retryTimer.unref === 'function') this.#retryTimer.unref();
          this.#settleReady?.(error);
          throw error;
        },
      );
      this.#inflight = attempt;
      return attempt;
    }

    // One GET within timeoutDuration: the body, at most MAX_JWKS_BYTES. `step.aborted` tells a timeout.
    async #get(url, accept, what, step) {
      const controller = new AbortController();
      const timer = setTimeout(() => {
        step.aborted = true;
        controller.abort();
      }, this.#timeout);
      if (typeof timer === 'object' && typeof timer.unref === 'function') timer.unref();
      try {
        const response = await this.#fetch(url, { signal: controller.signal, redirect: 'error', headers: { accept } });
        if (!response.ok) throw new Error(`${what} endpoint answered HTTP ${response.status}`);
        return await readCapped(response, MAX_JWKS_BYTES, what);
      } finally {
        clearTimeout(timer);
      }
    }

    // With discovery: the configuration first (checked by the core: its issuer must be the
    // provider's exactly), then the keys at its jwks_uri. Either failing is one failed fetch; the
    // last good keys (and the jwks_uri they came from) stay.
    async #load() {
      const step = { url: this.#uri, what: 'the JWKS', aborted: false };
      try {
        if (this.#discoveryUri !== undefined) {
          Object.assign(step, { url: this.#discoveryUri, what: 'the discovery document' });
          const configuration = await this.#get(step.url, 'application/json', 'discovery', step);
          let jwksUri;
          try {
            jwksUri = bindings.check_discovery(configuration, this.#issuer);
          } catch (thrown) {
            rethrow(thrown);
          }
          Object.assign(step, { url: jwksUri, what: 'the JWKS' });
        }
        const bytes = await this.#get(step.url, 'application/jwk-set+json, application/json', 'JWKS', step);
        const count = this.#verifier.setJwks(this.#provider, bytes);
        this.#uri = step.url;
        this.#lastSuccess = clock();
        this.#lastError = undefined;
        this.#lastWarnings = this.#verifier.refusedKeys(this.#provider);
        return count;
      } catch (cause) {
        const reason = step.aborted ? 'timed out' : String(cause && cause.message);
        const error = new EdgewardError(
          { ...JSON.parse(bindings.unavailable_error()), message: `fetching ${step.what} from ${step.url} failed: ${reason}` },
          { cause },
        );
        this.#lastError = error;
        throw error;
      }
    }

    // Before a verification: wait for a fetch under way; fetch when the keys are older than
    // cacheMaxAge (or were never loaded), unless a failed fetch's retry is not due yet.
    async ensureFresh() {
      if (this.#inflight !== null) return this.#inflight.catch(ignore);
      const now = clock();
      if (now - this.#lastSuccess >= this.#maxAge && (this.#failures === 0 || now >= this.#retryAt)) {
        return this.reload().catch(ignore);
      }
      return undefined;
    }

    // After ERR_JWKS_NO_MATCHING_KEY / ERR_JWKS_UNAVAILABLE: refetch once, unless cooling down
    // (or failures are being retried: the backoff decides those). Returns whether keys may have changed.
    async refetchForUnknownKey() {
      if (this.#inflight !== null) {
        await this.#inflight.catch(ignore);
        return true;
      }
      if (this.#failures > 0 || clock() - this.#lastAttempt < this.#cooldown) return false;
      await this.reload().catch(ignore);
      return true;
    }

    /** Verifies with fresh keys: waits for them, and refetches once for an unknown key. */
    async verify(token, options) {
      await this.ensureFresh();
      const own = { ...options, provider: this.#provider };
      try {
        return this.#verifier.verify(token, own);
      } catch (error) {
        if (!(error instanceof EdgewardError && NEEDS_KEYS.has(error.code))) throw error;
        if (!(await this.refetchForUnknownKey())) throw error;
        return this.#verifier.verify(token, own);
      }
    }
  }

  /**
   * Fetches `provider`'s keys from `uri` into `verifier` (jose's createRemoteJWKSet, for one
   * provider). Options in milliseconds: cooldownDuration, cacheMaxAge, timeoutDuration; their
   * defaults come from the provider's `remote_jwks` in the policy (refetch_cooldown_seconds,
   * cache_duration_seconds, timeout_ms), else the core's (30 s, 300 s, 2 s, as in the filter).
   * Without `uri`, the policy's `remote_jwks.uri`; with `remote_jwks.discovery`, the keys at the
   * `jwks_uri` of the discovery document there, both refreshed on the same schedule. `fetch`
   * replaces the runtime's.
   */
  function createRemoteJwks(verifier, provider, uri, options) {
    return new RemoteJwks(verifier, provider, uri, options);
  }

  // The remote key sets of these providers (none: undefined).
  function remotesOf(verifier, providers) {
    const byProvider = remotes.get(verifier);
    if (byProvider === undefined) return undefined;
    const found = providers.map((p) => byProvider.get(p)).filter((r) => r !== undefined);
    return found.length === 0 ? undefined : found;
  }

  // The remote key sets the rule for this request may need (none: undefined).
  function remotesFor(verifier, method, path) {
    const byProvider = remotes.get(verifier);
    if (byProvider === undefined) return undefined;
    const found = verifier.routeProviders(method, path).map((p) => byProvider.get(p)).filter((r) => r !== undefined);
    return found.length === 0 ? undefined : found;
  }

  function deny(res, error, req, onRefusal) {
    const { headers, body } = refusalBody(error, req, onRefusal);
    res.statusCode = error.denial.status;
    for (const [name, value] of headers) res.setHeader(name, value);
    res.end(body);
  }

  // The core's header changes, applied to what a handler reads: `req.headers` (keys in any case)
  // and `req.rawHeaders` (name/value pairs), exactly as the Envoy filter applies them upstream.
  function applyHeaderChanges(req, { remove, set }) {
    if (remove.length === 0 && set.length === 0) return;
    const headers = req.headers;
    const gone = new Set(remove);
    for (const [name] of set) gone.add(name);
    for (const key of Object.keys(headers)) {
      if (gone.has(key.toLowerCase())) delete headers[key];
    }
    for (const [name, value] of set) headers[name] = value;
    const raw = req.rawHeaders;
    if (Array.isArray(raw)) {
      const kept = [];
      for (let i = 0; i + 1 < raw.length; i += 2) {
        if (!gone.has(String(raw[i]).toLowerCase())) kept.push(raw[i], raw[i + 1]);
      }
      for (const [name, value] of set) kept.push(name, value);
      raw.length = 0;
      raw.push(...kept);
    }
  }

  const text = (value) => (typeof value === 'string' ? value : undefined);

  // What node:http, node:https and node:http2 know about a request's connection, for proof of
  // possession. The scheme is the socket's (TLS or not), the authority the request's own Host
  // (HTTP/2: :authority). X-Forwarded-* headers are never read: any client can send them (behind a
  // proxy that ends TLS, the policy's dpop_origins names the public origin). The client
  // certificate only `withPeer`: its DER whenever there is one (the TLS handshake proved the
  // client holds its key: enough for a certificate-bound token, with or without a CA), its first
  // URI SAN only when the TLS layer verified it against its CAs (`socket.authorized`): a peer ID
  // no CA vouched for would be anyone's to claim.
  function connectionOf(req, withPeer) {
    const socket = req.socket;
    const encrypted = socket != null && socket.encrypted === true;
    const headers = req.headers ?? {};
    const connection = {
      scheme: socket == null ? undefined : encrypted ? 'https' : 'http',
      authority: text(headers[':authority']) ?? text(headers.host),
    };
    if (withPeer && encrypted && typeof socket.getPeerCertificate === 'function') {
      const certificate = socket.getPeerCertificate();
      if (certificate != null && certificate.raw instanceof Uint8Array) {
        connection.peerCertificate = certificate.raw;
        if (socket.authorized === true) connection.peerUriSan = firstUriSan(certificate.subjectaltname);
      }
    }
    return connection;
  }

  // The first `URI:` entry of node:tls's `subjectaltname` (`DNS:a, URI:spiffe://…`; since Node
  // 17.3 a value holding a comma or a quote comes as a JSON string). Unreadable: undefined.
  function firstUriSan(san) {
    if (typeof san !== 'string') return undefined;
    const entry = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,"]*)(?:, |$)/y;
    while (entry.lastIndex < san.length) {
      const match = entry.exec(san);
      if (match === null) return undefined;
      if (match[1] !== 'URI') continue;
      if (!match[2].startsWith('"')) return match[2];
      try {
        return JSON.parse(match[2]);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  const isThenable = (value) => value !== null && typeof value === 'object' && typeof value.then === 'function';

  // Why a store's answer is neither 'fresh' nor 'replayed' (the request is refused, 503).
  function unusableAnswer(answer) {
    if (answer === 'full') return new Error('the replay store is full (its bucket holds only live proofs)');
    const what = typeof answer === 'string' ? JSON.stringify(answer.slice(0, 32)) : typeof answer;
    return new Error(`the replay store answered ${what}, not 'fresh' or 'replayed'`);
  }

  // The most a timer can wait (setTimeout takes a 32-bit signed delay; longer fires at once).
  const MAX_TIMER_MS = 0x7fffffff;

  // `answer` (a store's promise), or a rejection after `ms`: a store that never answers refuses
  // the request, fast. The store's late answer (or rejection) is then ignored.
  function withinTimeout(answer, ms) {
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`the replay store timed out: no answer within ${ms} ms`);
        error.code = 'ETIMEDOUT';
        reject(error);
      }, ms);
    });
    return Promise.race([Promise.resolve(answer), late]).finally(() => clearTimeout(timer));
  }

  /**
   * `(req, res, next)` for node:http and Express: decides each request by the policy's rules,
   * puts the verified token on `req.auth`, and answers refusals exactly as the core maps them.
   * Options: `now()` gives Unix seconds (tests); the default is the clock. `replayStore` records
   * each DPoP proof the core accepted (`record(proof)` → 'fresh' | 'replayed', or a promise of
   * it); default the verifier's in-memory store. `replayTimeoutMs` (default 1000) bounds a
   * store's promise: no answer by then refuses the request (503, the cause says it timed out).
   * `onRefusal(error, req)` shapes a refusal's body (status and headers stay the core's).
   * The path decided is `req.originalUrl` (Express: the URL before a mounted router rewrote
   * `req.url`), else `req.url`. In Fastify, pass it to a hook as `(request, reply)`: it answers
   * through `reply` (or register `edgeward.fastify`).
   */
  function middleware(verifier, options = {}) {
    if (!(verifier instanceof Verifier)) throw new TypeError('verifier must be an edgeward Verifier');
    const caseSensitive = options.caseSensitive;
    if (caseSensitive !== undefined && typeof caseSensitive !== 'boolean') throw new TypeError('caseSensitive must be a boolean');
    // Match paths as the application will route them: Express's routers ignore case (whatever
    // the app's 'case sensitive routing' says), so behind Express every rule is read
    // case-insensitively unless `caseSensitive: true` says the app routes exactly.
    const foldCase = (req) =>
      caseSensitive === undefined ? req.app != null && typeof req.app.get === 'function' && typeof req.app.use === 'function' : !caseSensitive;
    const gate = makeGate(verifier, options, {
      decide: (req, path, headers, common) => verifier.authorize(req.method, path, headers, { ...common, caseInsensitive: foldCase(req) }),
      remotes: (req, path) => remotesFor(verifier, req.method, path),
    });
    return gate.handler('edgeward');
  }

  /**
   * A per-route guard: verifies the request's token (the policy's rules are not asked), puts the
   * result on `req.auth` and refuses as the core maps it (401 without a token, 401/403 for one
   * that fails, proof of possession checked as under a rule: the DPoP header and the TLS client
   * certificate, each proof recorded in the replay store). `provider`: whose token (default: the
   * policy's only provider, else the one the token's `iss` names, as `verify` does). The other
   * options are the middleware's (`now`, `replayStore`, `replayTimeoutMs`, `onDecision`,
   * `decisionLog`, `onRefusal`). Express and node:http: `(req, res, next)`; Fastify: a hook.
   */
  function authenticate(verifier, options = {}) {
    if (!(verifier instanceof Verifier)) throw new TypeError('verifier must be an edgeward Verifier');
    const provider = optionalProvider(options.provider);
    if (provider !== undefined && !verifier.providers.includes(provider)) throw new TypeError(`unknown provider ${JSON.stringify(provider)}`);
    const gate = makeGate(verifier, options, {
      decide: (req, path, headers, common) => verifier.authenticate(req.method, path, headers, { ...common, provider }),
      remotes: () => remotesOf(verifier, provider === undefined ? verifier.providers : [provider]),
    });
    return gate.handler('edgewardAuthenticate');
  }

  // The results the middleware and the guards put on `req.auth`, each with the claims and scopes
  // the core verified: what requireScopes and requireClaims check (a result made elsewhere is no
  // verified token, and what a handler later writes on `req.auth` changes nothing).
  const issued = new WeakMap();

  /**
   * A per-route guard after `authenticate` (or the middleware): the token on `req.auth` must
   * carry every scope, else 403 ERR_SCOPE_INSUFFICIENT with the core's challenge. Decided by the
   * core, as a rule's `scopes`. Without a verified token on `req.auth`: 401 ERR_JWT_MISSING.
   * `requireScopes('read:orders', 'write:orders')` or `requireScopes(['read:orders'], options)`.
   */
  function requireScopes(...args) {
    const [scopes, options] = listAndOptions(args, 'requireScopes', 'scope');
    scopeText(scopes);
    return requirementGuard({ scopes }, options, 'edgewardRequireScopes');
  }

  /**
   * A per-route guard after `authenticate` (or the middleware): the connection's client
   * certificate, verified by the TLS layer against its CAs (`socket.authorized`), must name one of
   * these peers as its first URI SAN (a SPIFFE ID, exactly), else 403 ERR_PEER_DENIED. Decided by
   * the core, as a rule's `requires.peers`. Needs a verified token on `req.auth` first (else 401).
   * `requirePeers('spiffe://example.org/ns/bots/sa/billing')` or `requirePeers([…], options)`.
   */
  function requirePeers(...args) {
    const [peers, options] = listAndOptions(args, 'requirePeers', 'peer ID');
    return requirementGuard({ peers }, options, 'edgewardRequirePeers');
  }

  // requireScopes('a', 'b') / requireScopes(['a', 'b'], options): the list and the options.
  function listAndOptions(args, name, what) {
    let options = {};
    const last = args[args.length - 1];
    if (args.length > 0 && last !== null && typeof last === 'object' && !Array.isArray(last)) options = args.pop();
    const list = args.flat();
    if (list.length === 0) throw new TypeError(`${name} needs at least one ${what}`);
    if (list.some((item) => typeof item !== 'string')) throw new TypeError(`${name} takes strings`);
    return [list, options];
  }

  /**
   * A per-route guard after `authenticate` (or the middleware): each claim of `claims` (`{
   * client_id: ['billing-bot'], 'org.tenant': ['acme'] }`) must be one of its values (or, an
   * array claim, contain one), else 403 ERR_PRINCIPAL_DENIED. Decided by the core, as a rule's
   * `requires.claims`; the conditions are checked when the guard is made.
   */
  function requireClaims(claims, options = {}) {
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new TypeError('claims must be an object of claim names to arrays of values');
    return requirementGuard({ claims }, options, 'edgewardRequireClaims');
  }

  // The JSON text of a verified token's claims or scopes, for the guards: a token's parts are
  // frozen and shared by every request that carries it, so each is written once.
  const texts = new WeakMap();
  function jsonOf(part) {
    let text = texts.get(part);
    if (text === undefined) {
      text = JSON.stringify(part);
      texts.set(part, text);
    }
    return text;
  }

  function requirementGuard(requirement, options, name) {
    let guard;
    try {
      guard = new bindings.Guard(JSON.stringify(requirement));
    } catch (thrown) {
      rethrow(thrown);
    }
    const onRefusal = refusalShaper(options);
    const check = (req) => {
      const auth = req.auth;
      const verified = auth == null ? undefined : issued.get(auth);
      if (verified === undefined) return errorFrom(bindings.missing_error());
      const claims = requirement.claims === undefined ? '{}' : jsonOf(verified.claims);
      // The peer from the node:http request's socket (Fastify's request: its `raw`).
      const peer = requirement.peers === undefined ? undefined : connectionOf(req.raw ?? req, true).peerUriSan;
      const refusal = guard.check(claims, jsonOf(verified.scopes), peer);
      return refusal === '' ? undefined : errorFrom(refusal);
    };
    const run = {
      [name](req, res, next) {
        if (isFastifyReply(res)) {
          const error = check(req);
          if (error === undefined) return Promise.resolve();
          answerReply(res, error, req, onRefusal);
          return Promise.resolve(res);
        }
        const error = check(req);
        if (error === undefined) {
          if (typeof next === 'function') next();
          return undefined;
        }
        deny(res, error, req, onRefusal);
        return undefined;
      },
    };
    return run[name];
  }

  function refusalShaper(options) {
    const onRefusal = options.onRefusal;
    if (onRefusal !== undefined && typeof onRefusal !== 'function') throw new TypeError('onRefusal must be a function');
    return onRefusal;
  }

  // Fastify's reply: code(), headers(), send() and the node:http response in `raw`.
  const isFastifyReply = (res) =>
    res != null && typeof res.code === 'function' && typeof res.send === 'function' && res.raw != null;

  // The refusal's body: the core's, or what `onRefusal` made of it (an object as JSON, a string
  // as text). A hook that throws, or answers anything else, leaves the core's body.
  function refusalBody(error, req, onRefusal) {
    const { denial } = error;
    if (onRefusal === undefined) return { headers: denial.headers, body: denial.body };
    // A body of our own: its length and type are no longer the core's.
    const headers = denial.headers.filter(([name]) => !['content-length', 'content-type'].includes(name.toLowerCase()));
    let shaped;
    try {
      shaped = onRefusal(error, req);
    } catch {
      shaped = undefined;
    }
    if (typeof shaped === 'string') return { headers: [...headers, ['content-type', 'text/plain; charset=utf-8']], body: shaped };
    if (shaped !== null && typeof shaped === 'object') {
      let body;
      try {
        body = JSON.stringify(shaped);
      } catch {
        return { headers: denial.headers, body: denial.body };
      }
      return { headers: [...headers, ['content-type', 'application/json']], body };
    }
    return { headers: denial.headers, body: denial.body };
  }

  // A refusal through Fastify's reply: the core's status and headers, the (shaped) body.
  function answerReply(reply, error, req, onRefusal) {
    const { headers, body } = refusalBody(error, req, onRefusal);
    reply.code(error.denial.status);
    for (const [name, value] of headers) reply.header(name, value);
    reply.send(body);
  }

  // The decision machinery of the middleware and of `authenticate`: the core's answer with this
  // request's connection, the replay store, remote keys, onDecision and the HTTP answer.
  // `how.decide(req, path, headers, common)` asks the core; `how.remotes(req, path)` names the
  // remote key sets to keep fresh (undefined: none).
  function makeGate(verifier, options, how) {
    const now = options.now;
    if (now !== undefined && typeof now !== 'function') throw new TypeError('now must be a function');
    // onDecision(record, req, error): every decision's record (allowed and refused), e.g. for
    // audit logs; a refusal's EdgewardError too (its message and cause: why a store failed).
    const userOnDecision = options.onDecision;
    if (userOnDecision !== undefined && typeof userOnDecision !== 'function') throw new TypeError('onDecision must be a function');
    const onRefusal = refusalShaper(options);
    // decisionLog (a file path or a writable stream): each decision's line appended there
    // (decisionLogger), before onDecision sees the record.
    const log = options.decisionLog === undefined ? undefined : decisionLogger(options.decisionLog);
    const onDecision = log === undefined ? userOnDecision : userOnDecision === undefined ? log : (record, req, error) => {
      log(record, req, error);
      userOnDecision(record, req, error);
    };
    const replayStore = options.replayStore === undefined ? verifier.replayStore : options.replayStore;
    if (replayStore === null || typeof replayStore !== 'object' || typeof replayStore.record !== 'function') {
      throw new TypeError('replayStore must be an object with a record(proof) method');
    }
    const { replayTimeoutMs = 1000 } = options;
    if (typeof replayTimeoutMs !== 'number' || !(replayTimeoutMs > 0) || !(replayTimeoutMs <= MAX_TIMER_MS)) {
      throw new TypeError(`replayTimeoutMs must be a positive number of milliseconds (at most ${MAX_TIMER_MS})`);
    }

    // Each refusal once (a proof's refusal is reported where it is made, and passes through the
    // remote-keys retry below).
    const reported = new WeakSet();
    const reportRefusal = (error, req) => {
      if (onDecision === undefined || !(error instanceof EdgewardError) || error.record === undefined) return;
      if (reported.has(error)) return;
      reported.add(error);
      onDecision(error.record, req, error);
    };

    // The core's decision with this request's connection. A policy that does not need every
    // client certificate gets this one's only when a refusal may be for the lack of it (a
    // certificate-bound token): getPeerCertificate() costs more than a cached decision.
    function authorizeRequest(req) {
      const path = pathOf(req);
      const headers = Array.isArray(req.rawHeaders) ? req.rawHeaders : req.headers;
      const run = (withPeer) =>
        how.decide(req, path, headers, {
          now: now === undefined ? undefined : now(),
          record: onDecision !== undefined,
          connection: connectionOf(req, withPeer),
        });
      const upFront = verifier.readsPeerCertificates;
      try {
        return run(upFront);
      } catch (error) {
        const late = !upFront && error instanceof EdgewardError && error.code === 'ERR_POP_MISSING' && req.socket?.encrypted === true;
        if (!late) throw error;
        return run(true);
      }
    }

    // The request goes on: the core's header changes, req.auth, the record.
    function admit(req, outcome) {
      applyHeaderChanges(req, outcome);
      req.auth = outcome.access === 'granted' ? outcome.result : undefined;
      if (req.auth !== undefined) issued.set(req.auth, { claims: req.auth.claims, scopes: req.auth.scopes });
      if (onDecision !== undefined) {
        if (req.auth !== undefined) req.auth.decision = outcome.record;
        onDecision(outcome.record, req);
      }
    }

    function refuseProof(req, outcome, why, cause) {
      const error = verifier.proofRefusal(outcome, why, cause);
      reportRefusal(error, req);
      return error;
    }

    // A request with a DPoP proof goes on only once the store recorded the proof as new.
    function settleProof(req, outcome, answer) {
      if (answer === 'fresh') return admit(req, outcome);
      if (answer === 'replayed') throw refuseProof(req, outcome, 'replayed');
      throw refuseProof(req, outcome, 'unavailable', unusableAnswer(answer));
    }

    // `report: false` for a first try that may be retried with fresh keys (reported by the
    // caller). Returns undefined, or a promise when the replay store answers later.
    function decide(req, report = true) {
      let outcome;
      try {
        outcome = authorizeRequest(req);
      } catch (error) {
        if (report) reportRefusal(error, req);
        throw error;
      }
      if (outcome.proof === undefined) return admit(req, outcome);
      let answer;
      try {
        answer = replayStore.record(outcome.proof);
      } catch (cause) {
        throw refuseProof(req, outcome, 'unavailable', cause);
      }
      if (!isThenable(answer)) return settleProof(req, outcome, answer);
      return withinTimeout(answer, replayTimeoutMs).then(
        (late) => settleProof(req, outcome, late),
        (cause) => {
          throw refuseProof(req, outcome, 'unavailable', cause);
        },
      );
    }

    async function decideWithRemote(req, remoteSets) {
      await Promise.all(remoteSets.map((remote) => remote.ensureFresh()));
      try {
        await decide(req, false);
      } catch (error) {
        const retry = error instanceof EdgewardError && NEEDS_KEYS.has(error.code) &&
          (await Promise.all(remoteSets.map((remote) => remote.refetchForUnknownKey()))).includes(true);
        if (!retry) {
          reportRefusal(error, req);
          throw error;
        }
        await decide(req);
      }
    }

    // The decision for `req`: undefined (decided now) or a promise; throws or rejects with the
    // refusal (an EdgewardError) or a failure (anything else).
    function run(req) {
      const remoteSets = how.remotes(req, pathOf(req));
      return remoteSets === undefined ? decide(req) : decideWithRemote(req, remoteSets);
    }

    function finish(req, res, next, error) {
      if (error === undefined) {
        if (typeof next === 'function') next();
      } else if (error instanceof EdgewardError) {
        deny(res, error, req, onRefusal);
      } else if (typeof next === 'function') {
        next(error);
      } else {
        res.statusCode = 500;
        res.end('');
      }
    }

    // Fastify (a hook's `(request, reply)`): decided on `request.raw` (the node:http request:
    // its URL as sent, its headers and socket), `request.auth` set too; a refusal answered
    // through `reply` (the promise then resolves with it: Fastify stops the request there), a
    // failure rejected (Fastify's error handler answers). Never left pending past the store's
    // timeout, and never calling `done` as well as returning a promise.
    async function fastifyHook(request, reply) {
      const req = request.raw ?? request;
      try {
        await run(req);
      } catch (error) {
        if (!(error instanceof EdgewardError)) throw error;
        request.auth = undefined;
        answerReply(reply, error, request, onRefusal);
        return reply;
      }
      request.auth = req.auth;
      return undefined;
    }

    function handler(name) {
      const named = {
        [name](req, res, next) {
          if (isFastifyReply(res)) return fastifyHook(req, res);
          let pending;
          try {
            pending = run(req);
          } catch (error) {
            finish(req, res, next, error);
            return undefined;
          }
          if (pending === undefined) {
            finish(req, res, next, undefined);
            return undefined;
          }
          pending.then(
            () => finish(req, res, next, undefined),
            (error) => finish(req, res, next, error),
          );
          return undefined;
        },
      };
      const fn = named[name];
      // The logger `decisionLog` made (its `close()`, `dropped`), if any.
      if (log !== undefined) Object.defineProperty(fn, 'decisionLog', { value: log });
      return fn;
    }

    return { handler, run, fastifyHook };
  }

  const pathOf = (req) => (typeof req.originalUrl === 'string' ? req.originalUrl : req.url);

  /**
   * The Fastify plugin (register it: `app.register(edgeward.fastify, { verifier, … })`): an
   * `onRequest` hook deciding every request of the scope it is registered in by the policy's
   * rules (`{ authenticate: true }`: a per-route-free guard, the token only, as `authenticate`),
   * `request.auth` decorated, refusals answered through `reply` with the core's status, headers
   * and body. The other options are the middleware's. Marked as fastify-plugin marks a plugin
   * (`skip-override`, its name and `fastify: '5.x'`), so the hook applies to the scope that
   * registers it, without a dependency on fastify-plugin.
   */
  function fastifyPlugin(fastify, options, done) {
    const { verifier, authenticate: tokenOnly = false, ...rest } = options ?? {};
    if (!(verifier instanceof Verifier)) throw new TypeError('options.verifier must be an edgeward Verifier');
    if (typeof tokenOnly !== 'boolean') throw new TypeError('authenticate must be a boolean');
    const hook = tokenOnly ? authenticate(verifier, rest) : middleware(verifier, rest);
    if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', undefined);
    fastify.addHook('onRequest', (request, reply) => hook(request, reply));
    done();
  }
  fastifyPlugin[Symbol.for('skip-override')] = true;
  fastifyPlugin[Symbol.for('fastify.display-name')] = 'edgeward';
  fastifyPlugin[Symbol.for('plugin-meta')] = { fastify: '5.x', name: 'edgeward' };
  fastifyPlugin.default = fastifyPlugin;

  // Lines a decision log may hold unwritten (a stream that does not keep up): beyond, lines are
  // dropped and counted (`dropped`), never buffered without bound.
  const MAX_PENDING_LOG_BYTES = 8 * 1024 * 1024;

  /**
   * An `onDecision` that writes each decision's line (docs/policy.md, "Decision record": the
   * core's `DecisionRecord::json_line`, the same line Envoy's access log writes with
   * envoy/decision-log.yaml) to `target`: a file path (appended to; Node only) or a stream (any
   * object with `write(text)`). `options.now()` gives Unix milliseconds (default `Date.now`).
   * The function has `close()` (a promise; closes a file it opened, ends nothing it was given)
   * and `dropped` (lines not written: the stream held over 8 MiB unwritten, or the file failed;
   * `error` is the failure). Never the token.
   */
  function decisionLogger(target, options = {}) {
    const now = options.now === undefined ? Date.now : options.now;
    if (typeof now !== 'function') throw new TypeError('now must be a function');
    let stream;
    let owned = false;
    if (typeof target === 'string') {
      if (platform.fs === undefined) throw new TypeError('a decision log file needs Node (pass a stream instead)');
      stream = platform.fs.createWriteStream(target, { flags: 'a' });
      owned = true;
    } else if (target !== null && typeof target === 'object' && typeof target.write === 'function') {
      stream = target;
    } else {
      throw new TypeError('decisionLogger takes a file path or a stream with write()');
    }
    let dropped = 0;
    let failure;
    if (typeof stream.on === 'function') stream.on('error', (error) => { failure = error; });
    const logger = function decisionLog(record, req) {
      if (record === undefined || record === null) return;
      const url = req == null ? '' : typeof req.originalUrl === 'string' ? req.originalUrl : req.url;
      const method = req == null || typeof req.method !== 'string' ? '' : req.method;
      let line;
      try {
        line = bindings.decision_line(JSON.stringify(record), now(), method, typeof url === 'string' ? url : '');
      } catch (thrown) {
        throw new TypeError(`decisionLog: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
      }
      if (failure !== undefined || (typeof stream.writableLength === 'number' && stream.writableLength > MAX_PENDING_LOG_BYTES)) {
        dropped += 1;
        return;
      }
      stream.write(`${line}\n`);
    };
    Object.defineProperties(logger, {
      dropped: { get: () => dropped },
      error: { get: () => failure },
      close: {
        value: () => new Promise((resolve) => {
          if (!owned || stream.closed || stream.destroyed) return resolve();
          stream.end(() => resolve());
        }),
      },
    });
    return logger;
  }

  /**
   * A replay store in Redis, shared by every instance behind one policy: `SET <prefix><key> 1 NX
   * EX <ttlSeconds>` ('OK': fresh; null: replayed). `client` is the application's connected
   * node-redis (v4 and later) or ioredis client, told apart by its API (or say so: `api:
   * 'node-redis' | 'ioredis'`). A command that fails refuses the request (503); how long one may
   * go unanswered is the middleware's `replayTimeoutMs` (one bound for every store). Set the
   * client's own timeouts as well, so that commands do not queue up while Redis is away.
   */
  function redisReplayStore(client, options = {}) {
    if (client === null || typeof client !== 'object' || typeof client.set !== 'function') {
      throw new TypeError('client must be a node-redis or ioredis client');
    }
    const { prefix = 'edgeward:' } = options;
    if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
    // This store once had its own bound; a value silently ignored would not be the one asked for.
    if (options.timeoutMs !== undefined) {
      throw new TypeError("redisReplayStore has no timeoutMs: the middleware's replayTimeoutMs bounds every store");
    }
    const api = options.api === undefined ? redisApiOf(client) : options.api;
    if (api !== 'node-redis' && api !== 'ioredis') throw new TypeError("api must be 'node-redis' or 'ioredis'");
    const setNx =
      api === 'ioredis'
        ? (key, ttl) => client.set(key, '1', 'EX', ttl, 'NX')
        : (key, ttl) => client.set(key, '1', { NX: true, EX: ttl });
    return {
      async record(proof) {
        const reply = await setNx(prefix + proof.key, proof.ttlSeconds);
        if (reply === 'OK') return 'fresh';
        if (reply === null) return 'replayed';
        throw new Error(`Redis answered SET NX with ${typeof reply === 'string' ? JSON.stringify(reply.slice(0, 32)) : typeof reply}`);
      },
    };
  }

  // ioredis has defineCommand; node-redis has isOpen and the upper-case command names.
  function redisApiOf(client) {
    if (typeof client.defineCommand === 'function') return 'ioredis';
    if ('isOpen' in client || typeof client.SET === 'function') return 'node-redis';
    throw new TypeError("cannot tell the Redis client's API: pass { api: 'node-redis' } or { api: 'ioredis' }");
  }

  /** Reads a token's header and claims WITHOUT verifying it (for display and debugging). */
  function decodeUnverified(token) {
    if (typeof token !== 'string') throw new TypeError('token must be a string');
    try {
      return JSON.parse(bindings.decode_unverified(token));
    } catch (thrown) {
      return rethrow(thrown);
    }
  }

  /** Every stable error code. */
  function errorCodes() {
    return JSON.parse(bindings.error_codes());
  }

  /** The wasm module's memory size in bytes (it never shrinks; for leak checks). */
  function wasmMemoryBytes() {
    return bindings.memory_pages() * 65536;
  }

  return {
    Verifier,
    EdgewardError,
    RemoteJwks,
    createRemoteJwks,
    middleware,
    authenticate,
    requireScopes,
    requireClaims,
    requirePeers,
    fastify: fastifyPlugin,
    decisionLogger,
    memoryReplayStore,
    redisReplayStore,
    decodeUnverified,
    errorCodes,
    wasmMemoryBytes,
  };
}

// The host crypto object the glue calls (js/src/lib.rs, JsHostCrypto). Keys come as SPKI DER with
// a number naming the loaded key: a KeyObject is made once per number (at most KEPT_KEYS kept;
// number 0 is never kept). `input`, `spki` and `signature` are views of wasm memory: used during
// the call only.
function nodeHostCrypto(crypto) {
  const KEPT_KEYS = 256;
  const HASH = {
    RS256: 'sha256', RS384: 'sha384', RS512: 'sha512', PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
    ES384: 'sha384', ES512: 'sha512',
  };
  const PSS = { PS256: 32, PS384: 48, PS512: 64 }; // RFC 7518 §3.5: salt as long as the hash
  const ECDSA = new Set(['ES384', 'ES512']); // JWS signatures are raw r‖s (IEEE P1363), not DER
  const keys = new Map();
  const keyObject = (number, spki) => {
    let key = keys.get(number);
    if (key === undefined) {
      key = crypto.createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
      if (number !== 0) {
        if (keys.size >= KEPT_KEYS) keys.delete(keys.keys().next().value);
        keys.set(number, key);
      }
    }
    return key;
  };
  return {
    supports(alg) {
      return Object.hasOwn(HASH, alg);
    },
    prepare(number, spki) {
      keyObject(number, spki);
    },
    verify(alg, number, spki, input, signature) {
      const key = keyObject(number, spki);
      const salt = PSS[alg];
      let options = key;
      if (salt !== undefined) options = { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: salt };
      else if (ECDSA.has(alg)) options = { key, dsaEncoding: 'ieee-p1363' };
      const ok = crypto.verify(HASH[alg], input, options, signature);
      return ok ? 1 : 0;
    },
  };
}
