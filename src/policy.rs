//! The policy document shared by the filter, the npm package and the CLI (docs/policy.md), read
//! strictly: unknown fields, wrong types and impossible values are refused at load time with the
//! field's path (`providers.corp-idp.audiences[0]: expected a string`), never per request.

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::json;
use crate::jwk::KeySet;
pub use crate::pop::{PopMode, PopPolicy};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Default number of verified tokens kept per verifier.
pub const DEFAULT_TOKEN_CACHE_SIZE: usize = 4096;
/// Largest `token_cache_size` accepted.
pub const MAX_TOKEN_CACHE_SIZE: usize = 1_000_000;
/// Default `clock_skew_seconds`.
pub const DEFAULT_CLOCK_SKEW_SECONDS: u64 = 30;
/// Largest `clock_skew_seconds` accepted (one day).
pub const MAX_CLOCK_SKEW_SECONDS: u64 = 86_400;
/// Largest `max_token_bytes` accepted.
pub const MAX_MAX_TOKEN_BYTES: usize = 1024 * 1024;
/// Largest policy document accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 4 * 1024 * 1024;
/// Default `max_lifetime_seconds`: tokens living longer than an hour are refused unless the
/// provider says otherwise (`null` turns the bound off).
pub const DEFAULT_MAX_LIFETIME_SECONDS: u64 = 3600;
/// Largest `max_lifetime_seconds` accepted without `allow_long_lived_tokens: true` (one day).
pub const LONG_LIVED_SECONDS: u64 = 86_400;
/// Default `remote_jwks.cache_duration_seconds`, for the filter and the npm fetcher alike.
pub const DEFAULT_CACHE_DURATION_SECONDS: u64 = 300;
/// Default `remote_jwks.timeout_ms`.
pub const DEFAULT_TIMEOUT_MS: u64 = 2000;
/// Default `remote_jwks.refetch_cooldown_seconds`.
pub const DEFAULT_REFETCH_COOLDOWN_SECONDS: u64 = 30;
/// Default `method_override_headers`: a request carrying one of them must also satisfy the rule
/// of the method it names (Express's `method-override`, Rails, Symfony, … honour them).
pub const DEFAULT_METHOD_OVERRIDE_HEADERS: [&str; 3] = ["x-http-method-override", "x-http-method", "x-method-override"];
const MAX_POLICY_DEPTH: usize = 16;

/// A loaded, validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Providers, sorted by name.
    pub providers: Vec<Provider>,
    /// Rules, tried in order; the first match wins.
    pub rules: Vec<Rule>,
    /// Refuse tokens that carry a wildcard scope (any scope containing `*`).
    pub deny_wildcard_scopes: bool,
    /// Verified tokens kept in the cache (0 turns it off).
    pub token_cache_size: usize,
    /// Longest token accepted, in bytes, checked before decoding.
    pub max_token_bytes: usize,
    /// Request headers naming another method (lowercase): a request carrying one must satisfy
    /// the rule of that method too.
    pub method_override_headers: Vec<String>,
    /// Headers any provider fills from claims, normalized (lowercase, `_` read as `-`), sorted: a
    /// request header whose normalized name is one of them never reaches the upstream as sent.
    pub claim_headers: Vec<String>,
    /// Headers any provider reads its token from, normalized and sorted: removed from every
    /// request, on every route, except the exact `forwarded_headers`.
    pub token_headers: Vec<String>,
    /// Token headers kept as sent: those of `forward: true` providers that no provider without
    /// `forward` reads its token from.
    pub forwarded_headers: Vec<String>,
    /// Whether deciding may need the client certificate ([`Policy::reads_peer_certificates`]).
    reads_peer_certificates: bool,
}

/// An identity provider: whose tokens are trusted and how they are checked.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The provider's name (its key under `providers`).
    pub name: String,
    /// The exact `iss` value.
    pub issuer: String,
    /// Accepted `aud` values; a token must carry one of them.
    pub audiences: Vec<String>,
    /// Accepted `alg` values.
    pub algorithms: Vec<Algorithm>,
    /// Keys given inline in the policy.
    pub local_jwks: Option<KeySet>,
    /// Where the host fetches keys from.
    pub remote_jwks: Option<RemoteJwks>,
    /// Tolerance for `exp`, `nbf` and `iat`.
    pub clock_skew_seconds: u64,
    /// Longest accepted `exp - iat` (`None`: no bound, turned off with `null`).
    pub max_lifetime_seconds: Option<u64>,
    /// Whether `max_lifetime_seconds` is the default (so a refusal can say which field changes it).
    pub max_lifetime_is_default: bool,
    /// Largest RSA modulus its keys may have (4096 bits; 8192 with `allow_large_rsa_keys`).
    pub max_rsa_bits: usize,
    /// Accepted `typ` header values (compared as RFC 8725 §3.11 media types); `None` accepts any.
    pub token_types: Option<Vec<String>>,
    /// Claims every token must carry.
    pub required_claims: Vec<String>,
    /// Where the token is found in a request, in order.
    pub from_headers: Vec<HeaderSource>,
    /// Keep the token header on the forwarded request.
    pub forward: bool,
    /// Claims copied into request headers once the token is verified.
    pub claim_to_headers: Vec<ClaimToHeader>,
    /// Whether its tokens must be bound to a key the bot holds (mTLS, DPoP), and how proofs are checked.
    pub pop: PopPolicy,
}

/// A JWKS fetched by the host.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteJwks {
    /// Envoy cluster that reaches the identity provider (the filter requires it).
    #[serde(default)]
    pub cluster: Option<String>,
    /// The JWKS URI; with `discovery`, the discovery document's URI instead (default
    /// `<issuer>/.well-known/openid-configuration`, filled in at load).
    #[serde(default)]
    pub uri: String,
    /// Fetch the provider's OpenID configuration at `uri` first and the keys from its `jwks_uri`
    /// ([`crate::Discovery`]).
    #[serde(default)]
    pub discovery: bool,
    /// With `discovery`, the Envoy cluster that reaches a `jwks_uri` on another host than `uri`
    /// (default: `cluster`, for a `jwks_uri` on the same host only).
    #[serde(default)]
    pub jwks_cluster: Option<String>,
    /// How long fetched keys are used before they are fetched again.
    #[serde(default = "default_cache_duration")]
    pub cache_duration_seconds: u64,
    /// Timeout of one fetch.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Least time between two fetches triggered by an unknown `kid`.
    #[serde(default = "default_cooldown")]
    pub refetch_cooldown_seconds: u64,
}

fn default_cache_duration() -> u64 {
    DEFAULT_CACHE_DURATION_SECONDS
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
fn default_cooldown() -> u64 {
    DEFAULT_REFETCH_COOLDOWN_SECONDS
}

/// Where a host fetches a `remote_jwks` over HTTP: through an Envoy cluster, by `:authority`
/// and `:path` (the filter's requirements, also checked by `edgeward check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchTarget {
    /// The Envoy cluster.
    pub cluster: String,
    /// The host (and port) of `uri`.
    pub authority: String,
    /// Path and query of `uri` (`/` when it has none).
    pub path: String,
}

impl RemoteJwks {
    /// The cluster and the split `uri`, as the Envoy filter needs them; `provider` names the
    /// provider in the error path.
    pub fn fetch_target(&self, provider: &str) -> Result<FetchTarget, Error> {
        let at = |field: &str| format!("providers.{provider}.remote_jwks.{field}");
        let cluster = match self.cluster.as_deref() {
            Some(cluster) if !cluster.is_empty() => cluster.to_owned(),
            _ => return refuse(at("cluster"), "missing (the Envoy filter fetches keys through this cluster)"),
        };
        let (authority, path) = split_uri(&self.uri)
            .ok_or_else(|| Error::policy(at("uri"), "expected an absolute http:// or https:// URI"))?;
        Ok(FetchTarget { cluster, authority, path })
    }
}

/// Splits `https://host[:port]/path?query` into `(authority, path)`; the path defaults to `/`.
pub fn split_uri(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("https://").or_else(|| uri.strip_prefix("http://"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_owned()),
    };
    let path = path.split('#').next().unwrap_or("/").to_owned();
    let valid_authority = !authority.is_empty()
        && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
        && !authority.contains('@');
    let valid_path = path.bytes().all(|b| b.is_ascii_graphic());
    (valid_authority && valid_path).then(|| (authority.to_owned(), path))
}

/// A request header that may carry the token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderSource {
    /// Header name (matched case-insensitively; stored lowercase).
    pub name: String,
    /// Prefix before the token (matched case-insensitively), e.g. `Bearer `.
    #[serde(default)]
    pub value_prefix: Option<String>,
}

/// A claim copied into a request header.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimToHeader {
    /// The claim: a member of the payload, or a dotted path into nested objects (`org.tenant`).
    pub claim_name: String,
    /// The header it is written to (stored lowercase).
    pub header_name: String,
}

/// One rule: which requests it matches and what they need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule's `name`, for decision records and logs (else it is named by its index).
    pub name: Option<String>,
    /// Which requests.
    pub matcher: RouteMatch,
    /// What they need: no requirement lets them through without a token (a public rule); one
    /// (`requires`) or more (`requires_any`) are alternatives, and the request passes if one does.
    pub requires: Vec<Requirement>,
    /// Whether the document wrote `requires_any` (also with one alternative), so that a path names
    /// the field as written (`rules[0].requires_any[0]`, not `rules[0].requires`).
    pub requires_any: bool,
}

/// Which requests a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// The path condition (lowercase when `case_sensitive` is false).
    pub path: PathMatch,
    /// Methods matched (exact, case-sensitive; a rule for `GET` also matches `HEAD`); `None`
    /// matches any.
    pub methods: Option<Vec<String>>,
    /// Whether the path is compared case-sensitively (the default, as in `jwt_authn`).
    pub case_sensitive: bool,
}

/// A path condition, as in Envoy's route match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// The path starts with this string.
    Prefix(String),
    /// The path is exactly this string, or this string and one trailing `/`.
    Exact(String),
}

/// What a matched request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The provider whose token is needed.
    pub provider_name: String,
    /// Scopes the token must carry, every one of them.
    pub scopes: Vec<String>,
    /// Which bots the rule admits (`requires.claims`): every condition must hold.
    pub claims: Vec<ClaimCondition>,
    /// `allow_missing`: a request without this provider's token passes (as on a public rule);
    /// a token that is there must still verify.
    pub allow_missing: bool,
    /// `peers`: the client certificate's URI SAN (a SPIFFE ID) must be one of these, exactly
    /// (empty: any peer, or none).
    pub peers: Vec<String>,
}

/// Most peer IDs one requirement's `peers` lists.
pub const MAX_PEERS: usize = 256;

/// Most alternatives in one rule's `requires_any`.
pub const MAX_ALTERNATIVES: usize = 8;

/// One identity condition of a requirement: the claim at `claim` (a dotted path into nested
/// objects) must be present and be one of `values` (a string, number or boolean claim), or contain
/// one of them (an array claim). Exact, in JSON form: no prefix, case or wildcard matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimCondition {
    /// The claim's name as written (`client_id`, `org.tenant`).
    pub claim: String,
    /// The values admitted (strings, numbers, booleans).
    pub values: Vec<Value>,
}

/// Most conditions in one requirement's `claims`.
pub const MAX_CLAIM_CONDITIONS: usize = 16;
/// Most values one condition admits.
pub const MAX_CLAIM_VALUES: usize = 256;
/// Most segments of a dotted claim name (`a.b.c` has 3).
pub const MAX_CLAIM_PATH_SEGMENTS: usize = 8;

impl ClaimCondition {
    /// Whether `value` (the claim, if the token has it) satisfies this condition.
    pub fn admits(&self, value: Option<&Value>) -> bool {
        let admitted =
            |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)) && self.values.contains(v);
        match value {
            Some(Value::Array(items)) => items.iter().any(admitted),
            Some(v) => admitted(v),
            None => false,
        }
    }
}

/// The member at a dotted claim name (`org.tenant` reads `{"org": {"tenant": …}}`; never a
/// top-level member whose name contains a dot).
pub fn claim_at<'a>(claims: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    let mut segments = name.split('.');
    let mut value = claims.get(segments.next()?)?;
    for segment in segments {
        value = value.as_object()?.get(segment)?;
    }
    Some(value)
}

/// Refuses a claim name that is not a dotted path of non-empty segments.
fn check_claim_name(path: &str, name: &str) -> Result<(), Error> {
    if name.is_empty() || name.split('.').any(str::is_empty) {
        return refuse(path, "a claim name (or dotted path, like org.tenant) without empty segments");
    }
    if name.split('.').count() > MAX_CLAIM_PATH_SEGMENTS {
        return refuse(path, format!("at most {MAX_CLAIM_PATH_SEGMENTS} segments"));
    }
    Ok(())
}

/// What the policy says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// A rule without `requires` matched: no token needed.
    Public,
    /// A rule with `requires` (one) or `requires_any` (alternatives) matched.
    Protected(&'a [Requirement]),
}

impl Policy {
    /// Whether deciding may need the client certificate (a provider's `proof_of_possession` of
    /// `mtls` or `any`, `bind_subject_to_peer`, a requirement's `peers`). Hosts that pay for
    /// reading it read it up front then; otherwise only for a decision that asked for it
    /// (`ERR_POP_MISSING` of a certificate-bound token).
    /// Decided once, when the policy loads: the filter asks for every request.
    pub fn reads_peer_certificates(&self) -> bool {
        self.reads_peer_certificates
    }

    /// Reads a policy from JSON text.
    pub fn from_json(text: &str) -> Result<Policy, Error> {
        Policy::from_bytes(text.as_bytes())
    }

    /// Reads a policy from JSON bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Policy, Error> {
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(Error::policy("", format!("document is larger than {MAX_POLICY_BYTES} bytes")));
        }
        let value = json::parse(bytes, MAX_POLICY_DEPTH).map_err(|e| e.into_error(Error::Policy))?;
        Policy::from_value(value)
    }

    /// Reads a policy from an already-parsed JSON value.
    pub fn from_value(value: Value) -> Result<Policy, Error> {
        let doc: PolicyDoc = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            let (path, message) = describe(path, &e.into_inner().to_string());
            Error::policy(path, message)
        })?;
        doc.validate()
    }

    /// The provider called `name`.
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        self.provider_index(name).and_then(|i| self.providers.get(i))
    }

    pub(crate) fn provider_index(&self, name: &str) -> Option<usize> {
        self.providers.binary_search_by(|p| p.name.as_str().cmp(name)).ok()
    }

    /// The rule that decides a request (first match wins); `ERR_ROUTE_DENIED` when none does,
    /// or when the path is not in normal form (dot segments, `//`, encoded `/`, `.` or `\\`), since an
    /// upstream might read such a path differently from the rules.
    pub fn route(&self, method: &str, path: &str) -> Result<Route<'_>, Error> {
        self.rule_for(method, path).map(|(_, rule)| match rule.requires.as_slice() {
            [] => Route::Public,
            alternatives => Route::Protected(alternatives),
        })
    }

    /// The rule that decides a request and its index in `rules` (see [`Policy::route`]). The path
    /// is matched without its query, after percent-encoded unreserved characters are decoded
    /// (RFC 3986 §6.2.2.2: `/%6Frders` is `/orders`, as most servers read it).
    pub fn rule_for(&self, method: &str, path: &str) -> Result<(usize, &Rule), Error> {
        self.rule_for_case(method, path, false)
    }

    /// [`Policy::rule_for`], with every rule's path compared case-insensitively when
    /// `case_insensitive` (for a host whose application routes so).
    pub fn rule_for_case(&self, method: &str, path: &str, case_insensitive: bool) -> Result<(usize, &Rule), Error> {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        if !is_normal_path(path) {
            return Err(Error::RouteDenied);
        }
        let path = decode_unreserved(path);
        let lower = path.to_ascii_lowercase();
        let folded = |rule: &Rule| !rule.matcher.case_sensitive || case_insensitive;
        self.rules
            .iter()
            .enumerate()
            .find(|(_, rule)| {
                if !folded(rule) {
                    rule.matcher.matches(method, &path)
                } else if rule.matcher.case_sensitive {
                    // A case-sensitive rule read case-insensitively: fold its pattern too.
                    rule.matcher.lowercased().matches(method, &lower)
                } else {
                    rule.matcher.matches(method, &lower)
                }
            })
            .ok_or(Error::RouteDenied)
    }
}

impl RouteMatch {
    fn lowercased(&self) -> RouteMatch {
        let path = match &self.path {
            PathMatch::Prefix(p) => PathMatch::Prefix(p.to_ascii_lowercase()),
            PathMatch::Exact(p) => PathMatch::Exact(p.to_ascii_lowercase()),
        };
        RouteMatch { path, methods: self.methods.clone(), case_sensitive: false }
    }

    /// Whether a request matches (`path`: normalized, and lowercase for a case-insensitive rule).
    fn matches(&self, method: &str, path: &str) -> bool {
        let path_ok = match &self.path {
            PathMatch::Prefix(prefix) => path.starts_with(prefix.as_str()),
            PathMatch::Exact(exact) => {
                path.strip_prefix(exact.as_str()).is_some_and(|rest| rest.is_empty() || rest == "/")
            }
        };
        // HEAD is served by GET handlers in most frameworks: it needs at least what GET needs.
        let method_ok = |m: &String| m == method || (method == "HEAD" && m == "GET");
        path_ok && self.methods.as_ref().is_none_or(|methods| methods.iter().any(method_ok))
    }
}

/// Decodes percent-encoded unreserved characters (ALPHA, DIGIT, `-`, `_`, `~`; `.` is refused
/// before this by [`is_normal_path`]); every other escape stays as it was.
pub(crate) fn decode_unreserved(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.contains('%') {
        return std::borrow::Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| path.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .filter(|b| b.is_ascii_alphanumeric() || b"-_~".contains(b));
        match decoded {
            Some(b) => {
                out.push(char::from(b));
                i += 3;
            }
            None => {
                let ch = path[i..].chars().next().unwrap_or_default();
                out.push(ch);
                i += ch.len_utf8().max(1);
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A header name as servers that map headers to variables read it: lowercase, `_` as `-`
/// (WSGI's `HTTP_X_BOT_ID` is both `x-bot-id` and `x_bot_id`). Borrowed when the name already is
/// (hosts hand over lowercase names, so almost always: no allocation per header).
pub fn normalized_header_name(name: &str) -> std::borrow::Cow<'_, str> {
    if name.bytes().all(|b| b != b'_' && !b.is_ascii_uppercase()) {
        return std::borrow::Cow::Borrowed(name);
    }
    std::borrow::Cow::Owned(
        name.bytes().map(|b| if b == b'_' { '-' } else { char::from(b.to_ascii_lowercase()) }).collect(),
    )
}

/// A path edgeward will decide on: starts with `/`, no `.`/`..` segments (also not as `..;x`,
/// which Tomcat-style servers read as `..`), no empty segment (`//`, which many servers merge),
/// no backslash or control characters, and no percent-encoded `/`, `\\` or `.`.
fn is_normal_path(path: &str) -> bool {
    if !path.starts_with('/') || path.bytes().any(|b| b == b'\\' || b.is_ascii_control() || b == b' ') {
        return false;
    }
    if path.contains("//") {
        return false;
    }
    let dot_segment = |segment: &str| {
        let name = segment.split(';').next().unwrap_or_default();
        name == "." || name == ".."
    };
    if path.split('/').any(dot_segment) {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    !["%2f", "%5c", "%2e"].iter().any(|encoded| lower.contains(encoded))
}

impl Provider {
    /// Finds the token in a request: the first `from_headers` source whose header is present and
    /// starts with its prefix (compared case-insensitively). `header` looks a header up by its
    /// lowercase name. An empty credential counts as none.
    pub fn extract_token(&self, header: impl FnMut(&str) -> Option<String>) -> Option<String> {
        self.extract_presented(header).map(|presented| presented.token)
    }

    /// [`Provider::extract_token`], and whether the token came with the `DPoP` scheme: where a
    /// source reads `Bearer ` tokens, a DPoP-bound one comes as `DPoP <token>` (RFC 9449 §7.1).
    pub(crate) fn extract_presented(
        &self,
        mut header: impl FnMut(&str) -> Option<String>,
    ) -> Option<crate::pop::Presented> {
        let strip = |value: &str, prefix: &str| -> Option<String> {
            let head = value.get(..prefix.len())?;
            head.eq_ignore_ascii_case(prefix).then(|| value[prefix.len()..].to_owned())
        };
        self.from_headers.iter().find_map(|source| {
            let value = header(&source.name)?;
            let (token, dpop_scheme) = match &source.value_prefix {
                None => (value, false),
                Some(prefix) => match strip(&value, prefix) {
                    Some(token) => (token, false),
                    None if prefix.eq_ignore_ascii_case("bearer ") => (strip(&value, "DPoP ")?, true),
                    None => return None,
                },
            };
            (!token.is_empty()).then_some(crate::pop::Presented { token, dpop_scheme })
        })
    }

    /// Whether `typ` is accepted: an absent list accepts anything; otherwise compared as media
    /// types, case-insensitively, with `application/` implied only when the value has no `/`
    /// (RFC 7515 §4.1.9): `at+jwt` is `application/at+jwt`, `text/plain` is not `application/text/plain`.
    pub fn accepts_type(&self, typ: Option<&str>) -> bool {
        let Some(types) = &self.token_types else { return true };
        let Some(typ) = typ else { return false };
        let typ = media_type(typ);
        types.iter().any(|t| media_type(t) == typ)
    }
}

/// A `typ`/`cty` value as a full media type, lowercase (RFC 7515 §4.1.9).
pub(crate) fn media_type(value: &str) -> String {
    let lower = value.to_ascii_lowercase();
    if lower.contains('/') { lower } else { format!("application/{lower}") }
}

/// Turns serde's message into one that names the problem plainly, and moves the path of an
/// unknown field onto the field itself.
fn describe(path: String, message: &str) -> (String, String) {
    let join = |field: &str| if path.is_empty() { field.to_owned() } else { format!("{path}.{field}") };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let expected = rest.split_once(", expected ").map(|(_, e)| e).unwrap_or_default();
        // serde_path_to_error already ends the path with the unknown member; add it only if not.
        let already_named = path == field || path.ends_with(&format!(".{field}"));
        let path = if already_named { path.clone() } else { join(field) };
        return (path, format!("unknown field (expected {})", expected.replace('`', "")));
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return (join(field), "missing".to_owned());
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            return (path, format!("expected {expected}, found {found}"));
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let name = rest.split('`').next().unwrap_or_default();
        let expected = rest.split_once(", expected ").map(|(_, e)| e).unwrap_or_default();
        return (path, format!("unsupported value \"{name}\" (expected {})", expected.replace('`', "")));
    }
    (path, message.to_owned())
}

// ---- the document as written; `validate` turns it into a `Policy` ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDoc {
    providers: BTreeMap<String, ProviderDoc>,
    #[serde(default)]
    rules: Vec<RuleDoc>,
    #[serde(default = "yes")]
    deny_wildcard_scopes: bool,
    #[serde(default)]
    token_cache_size: Option<usize>,
    #[serde(default)]
    max_token_bytes: Option<usize>,
    #[serde(default)]
    method_override_headers: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

/// `Some(None)` for an explicit `null`, `None` (via `default`) for an absent field.
fn explicit<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderDoc {
    issuer: String,
    audiences: Vec<String>,
    #[serde(default)]
    algorithms: Option<Vec<Algorithm>>,
    #[serde(default)]
    local_jwks: Option<Value>,
    #[serde(default)]
    remote_jwks: Option<RemoteJwks>,
    #[serde(default)]
    clock_skew_seconds: Option<u64>,
    #[serde(default, deserialize_with = "explicit")]
    max_lifetime_seconds: Option<Option<u64>>,
    #[serde(default)]
    allow_long_lived_tokens: bool,
    #[serde(default)]
    allow_large_rsa_keys: bool,
    #[serde(default)]
    token_types: Option<Vec<String>>,
    #[serde(default)]
    required_claims: Vec<String>,
    #[serde(default)]
    from_headers: Option<Vec<HeaderSource>>,
    #[serde(default)]
    forward: bool,
    #[serde(default)]
    claim_to_headers: Vec<ClaimToHeader>,
    #[serde(default)]
    proof_of_possession: Option<PopMode>,
    #[serde(default)]
    dpop_algorithms: Option<Vec<Algorithm>>,
    #[serde(default)]
    dpop_max_age_seconds: Option<u64>,
    #[serde(default)]
    dpop_origins: Vec<String>,
    #[serde(default)]
    bind_subject_to_peer: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "match")]
    matcher: MatchDoc,
    #[serde(default)]
    requires: Option<RequirementDoc>,
    #[serde(default)]
    requires_any: Option<Vec<RequirementDoc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchDoc {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    methods: Option<Vec<String>>,
    #[serde(default = "yes")]
    case_sensitive: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementDoc {
    provider_name: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    claims: BTreeMap<String, Vec<Value>>,
    #[serde(default)]
    allow_missing: bool,
    #[serde(default)]
    peers: Option<Vec<String>>,
}

/// A per-route guard's conditions (the npm package's `requireScopes` / `requireClaims` /
/// `requirePeers`): the same checks as a rule's `requires.scopes`, `requires.claims` and
/// `requires.peers`, read from `{"scopes": […], "claims": {name: [values]}, "peers": […]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuardDoc {
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    claims: BTreeMap<String, Vec<Value>>,
    #[serde(default)]
    peers: Option<Vec<String>>,
}

impl Requirement {
    /// A requirement for a per-route guard, outside the policy's rules: `json` is `{"scopes":
    /// […], "claims": {name: [values]}, "peers": […]}` (each optional), validated as a rule's
    /// `requires` is (paths in errors start with `guard`). It names no provider: it is only
    /// checked against a token that already verified ([`crate::Verifier::check_requirement`]).
    pub fn for_guard(json: &str) -> Result<Requirement, Error> {
        let doc: GuardDoc = serde_json::from_str(json).map_err(|e| Error::policy("guard", e.to_string()))?;
        let (scopes, claims) = checked_conditions("guard", doc.scopes, doc.claims)?;
        let peers = checked_peers("guard", doc.peers)?;
        Ok(Requirement { provider_name: String::new(), scopes, claims, allow_missing: false, peers })
    }
}

/// A requirement's scopes and claim conditions, validated (`path`: where they are, for errors).
fn checked_conditions(
    path: &str,
    scopes: Vec<String>,
    conditions: BTreeMap<String, Vec<Value>>,
) -> Result<(Vec<String>, Vec<ClaimCondition>), Error> {
    for (i, scope) in scopes.iter().enumerate() {
        if !is_scope_token(scope) {
            return refuse(format!("{path}.scopes[{i}]"), "not a valid scope (one word, no spaces)");
        }
    }
    if conditions.len() > MAX_CLAIM_CONDITIONS {
        return refuse(format!("{path}.claims"), format!("at most {MAX_CLAIM_CONDITIONS} claims"));
    }
    let mut claims = Vec::with_capacity(conditions.len());
    for (claim, values) in conditions {
        let at = format!("{path}.claims.{claim}");
        check_claim_name(&at, &claim)?;
        if values.is_empty() || values.len() > MAX_CLAIM_VALUES {
            return refuse(at, format!("expected 1 to {MAX_CLAIM_VALUES} values"));
        }
        for (i, value) in values.iter().enumerate() {
            if !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                return refuse(format!("{at}[{i}]"), "expected a string, number or boolean");
            }
        }
        claims.push(ClaimCondition { claim, values });
    }
    Ok((scopes, claims))
}

impl RequirementDoc {
    /// `path` is the requirement's own (`rules[0].requires`, `rules[0].requires_any[1]`).
    fn validate(self, path: &str, providers: &[Provider]) -> Result<Requirement, Error> {
        if !providers.iter().any(|p| p.name == self.provider_name) {
            return refuse(format!("{path}.provider_name"), format!("unknown provider \"{}\"", self.provider_name));
        }
        let (scopes, claims) = checked_conditions(path, self.scopes, self.claims)?;
        let peers = checked_peers(path, self.peers)?;
        Ok(Requirement { provider_name: self.provider_name, scopes, claims, allow_missing: self.allow_missing, peers })
    }
}

/// A requirement's `peers`, validated: absent admits any peer (or none); present, 1 to
/// [`MAX_PEERS`] URI SANs.
fn checked_peers(path: &str, peers: Option<Vec<String>>) -> Result<Vec<String>, Error> {
    let Some(peers) = peers else { return Ok(Vec::new()) };
    if peers.is_empty() || peers.len() > MAX_PEERS {
        return refuse(
            format!("{path}.peers"),
            format!("expected 1 to {MAX_PEERS} peer IDs (omit the field to admit any)"),
        );
    }
    for (i, peer) in peers.iter().enumerate() {
        if !crate::pop::is_peer_id(peer) {
            return refuse(
                format!("{path}.peers[{i}]"),
                "expected a URI SAN of a client certificate, like spiffe://example.org/ns/bots/sa/billing",
            );
        }
    }
    Ok(peers)
}

fn refuse<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, Error> {
    Err(Error::policy(path, message))
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_scope_token(scope: &str) -> bool {
    // RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`.
    !scope.is_empty() && scope.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

fn non_empty_strings(path: &str, items: &[String], what: &str) -> Result<(), Error> {
    for (i, item) in items.iter().enumerate() {
        if item.is_empty() {
            return refuse(format!("{path}[{i}]"), format!("{what} must not be empty"));
        }
    }
    Ok(())
}

impl PolicyDoc {
    fn validate(self) -> Result<Policy, Error> {
        if self.providers.is_empty() {
            return refuse("providers", "at least one provider is needed");
        }
        let mut providers = Vec::with_capacity(self.providers.len());
        for (name, doc) in self.providers {
            providers.push(doc.validate(name)?);
        }
        let mut rules = Vec::with_capacity(self.rules.len());
        for (index, rule) in self.rules.into_iter().enumerate() {
            rules.push(rule.validate(&format!("rules[{index}]"), &providers)?);
        }
        let token_cache_size = self.token_cache_size.unwrap_or(DEFAULT_TOKEN_CACHE_SIZE);
        if token_cache_size > MAX_TOKEN_CACHE_SIZE {
            return refuse("token_cache_size", format!("must be at most {MAX_TOKEN_CACHE_SIZE}"));
        }
        let max_token_bytes = self.max_token_bytes.unwrap_or(crate::token::DEFAULT_MAX_TOKEN_BYTES);
        if max_token_bytes == 0 || max_token_bytes > MAX_MAX_TOKEN_BYTES {
            return refuse("max_token_bytes", format!("must be between 1 and {MAX_MAX_TOKEN_BYTES}"));
        }
        let method_override_headers = match self.method_override_headers {
            None => DEFAULT_METHOD_OVERRIDE_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
            Some(names) => {
                for (i, name) in names.iter().enumerate() {
                    if !is_header_name(name) {
                        return refuse(format!("method_override_headers[{i}]"), "not a valid header name");
                    }
                }
                names.iter().map(|n| normalized_header_name(n).into_owned()).collect()
            }
        };
        let (claim_headers, token_headers, forwarded_headers) = header_sets(&providers);
        let reads_peer_certificates =
            providers.iter().any(|p| matches!(p.pop.mode, PopMode::Mtls | PopMode::Any) || p.pop.bind_subject_to_peer)
                || rules.iter().flat_map(|r| &r.requires).any(|r| !r.peers.is_empty());
        Ok(Policy {
            reads_peer_certificates,
            providers,
            rules,
            deny_wildcard_scopes: self.deny_wildcard_scopes,
            token_cache_size,
            max_token_bytes,
            method_override_headers,
            claim_headers,
            token_headers,
            forwarded_headers,
        })
    }
}

/// The claim headers and token headers (normalized), and the token headers kept as sent
/// (`forward: true`, read by no provider without it); each sorted, without repeats.
fn header_sets(providers: &[Provider]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let claim: Vec<String> = providers
        .iter()
        .flat_map(|p| &p.claim_to_headers)
        .map(|c| normalized_header_name(&c.header_name).into_owned())
        .collect();
    let token: Vec<String> =
        providers.iter().flat_map(|p| &p.from_headers).map(|s| normalized_header_name(&s.name).into_owned()).collect();
    // Compared as servers read them (`x_token` is `x-token`): a header some provider without
    // `forward` reads is never kept, under any spelling.
    let unforwarded: Vec<String> = providers
        .iter()
        .filter(|p| !p.forward)
        .flat_map(|p| &p.from_headers)
        .map(|s| normalized_header_name(&s.name).into_owned())
        .collect();
    let forwarded: Vec<String> = providers
        .iter()
        .filter(|p| p.forward)
        .flat_map(|p| &p.from_headers)
        .map(|s| s.name.clone())
        .filter(|name| {
            let normalized = normalized_header_name(name);
            !unforwarded.iter().any(|u| *u == normalized) && !claim.iter().any(|c| *c == normalized)
        })
        .collect();
    let sorted = |mut set: Vec<String>| {
        set.sort();
        set.dedup();
        set
    };
    (sorted(claim), sorted(token), sorted(forwarded))
}

impl ProviderDoc {
    fn validate(self, name: String) -> Result<Provider, Error> {
        let path = format!("providers.{name}");
        let at = |field: &str| format!("{path}.{field}");
        if name.is_empty() {
            return refuse("providers", "a provider name must not be empty");
        }
        if self.issuer.is_empty() {
            return refuse(at("issuer"), "must not be empty");
        }
        if self.audiences.is_empty() {
            return refuse(at("audiences"), "at least one audience is needed");
        }
        non_empty_strings(&at("audiences"), &self.audiences, "an audience")?;
        let algorithms = self.algorithms.unwrap_or_else(|| vec![Algorithm::ES256]);
        if algorithms.is_empty() {
            return refuse(at("algorithms"), "at least one algorithm is needed");
        }
        let max_rsa_bits =
            if self.allow_large_rsa_keys { crate::jwk::MAX_RSA_BITS } else { crate::jwk::DEFAULT_MAX_RSA_BITS };
        let local_jwks = match &self.local_jwks {
            None => None,
            Some(value) => Some(KeySet::from_value_with(value, &algorithms, &at("local_jwks"), max_rsa_bits).map_err(
                |e| match e {
                    Error::Jwks(c) => Error::Policy(c),
                    other => other,
                },
            )?),
        };
        if local_jwks.is_none() && self.remote_jwks.is_none() {
            return refuse(path, "needs local_jwks or remote_jwks");
        }
        let mut remote_jwks = self.remote_jwks;
        if let Some(remote) = &mut remote_jwks {
            if remote.discovery && remote.uri.is_empty() {
                remote.uri = crate::discovery::discovery_uri(&self.issuer);
                if split_uri(&remote.uri).is_none() {
                    return refuse(
                        at("remote_jwks.uri"),
                        "needed with discovery: true when the issuer is not an http:// or https:// URL",
                    );
                }
            } else if remote.discovery && split_uri(&remote.uri).is_none() {
                return refuse(at("remote_jwks.uri"), "expected an absolute http:// or https:// URI");
            }
            if remote.uri.is_empty() {
                return refuse(at("remote_jwks.uri"), "must not be empty (required unless discovery: true)");
            }
            if remote.cluster.as_deref() == Some("") {
                return refuse(at("remote_jwks.cluster"), "must not be empty");
            }
            match remote.jwks_cluster.as_deref() {
                Some("") => return refuse(at("remote_jwks.jwks_cluster"), "must not be empty"),
                Some(_) if !remote.discovery => {
                    return refuse(at("remote_jwks.jwks_cluster"), "only with discovery: true");
                }
                _ => {}
            }
            if remote.cache_duration_seconds == 0 {
                return refuse(at("remote_jwks.cache_duration_seconds"), "must be at least 1");
            }
            if remote.timeout_ms == 0 {
                return refuse(at("remote_jwks.timeout_ms"), "must be at least 1");
            }
        }
        let clock_skew_seconds = self.clock_skew_seconds.unwrap_or(DEFAULT_CLOCK_SKEW_SECONDS);
        if clock_skew_seconds > MAX_CLOCK_SKEW_SECONDS {
            return refuse(at("clock_skew_seconds"), format!("must be at most {MAX_CLOCK_SKEW_SECONDS}"));
        }
        let (max_lifetime_seconds, max_lifetime_is_default) = match self.max_lifetime_seconds {
            None => (Some(DEFAULT_MAX_LIFETIME_SECONDS), true),
            Some(explicit) => (explicit, false),
        };
        match max_lifetime_seconds {
            Some(0) => return refuse(at("max_lifetime_seconds"), "must be at least 1 (null turns the bound off)"),
            Some(max) if max > LONG_LIVED_SECONDS && !self.allow_long_lived_tokens => {
                return refuse(
                    at("max_lifetime_seconds"),
                    format!(
                        "{max} is over {LONG_LIVED_SECONDS} (one day): long-lived tokens are what edgeward exists to \
                         stop; set allow_long_lived_tokens: true to accept them anyway"
                    ),
                );
            }
            _ => {}
        }
        if let Some(types) = &self.token_types {
            if types.is_empty() {
                return refuse(at("token_types"), "at least one type is needed (omit the field to accept any)");
            }
            non_empty_strings(&at("token_types"), types, "a type")?;
        }
        non_empty_strings(&at("required_claims"), &self.required_claims, "a claim name")?;
        let from_headers = match self.from_headers {
            None => vec![HeaderSource { name: "authorization".into(), value_prefix: Some("Bearer ".into()) }],
            Some(sources) if sources.is_empty() => return refuse(at("from_headers"), "at least one header is needed"),
            Some(sources) => sources
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    if !is_header_name(&s.name) {
                        return refuse(format!("{path}.from_headers[{i}].name"), "not a valid header name");
                    }
                    Ok(HeaderSource {
                        name: s.name.to_ascii_lowercase(),
                        value_prefix: s.value_prefix.filter(|p| !p.is_empty()),
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let mut claim_to_headers = Vec::with_capacity(self.claim_to_headers.len());
        for (i, c) in self.claim_to_headers.into_iter().enumerate() {
            check_claim_name(&format!("{path}.claim_to_headers[{i}].claim_name"), &c.claim_name)?;
            let header = c.header_name.to_ascii_lowercase();
            if !is_header_name(&header) || from_headers.iter().any(|s| s.name == header) {
                return refuse(
                    format!("{path}.claim_to_headers[{i}].header_name"),
                    "not a valid header name, or the token's own header",
                );
            }
            claim_to_headers.push(ClaimToHeader { claim_name: c.claim_name, header_name: header });
        }
        let pop = PopPolicy::validate(
            &path,
            self.proof_of_possession,
            self.dpop_algorithms,
            self.dpop_max_age_seconds,
            self.dpop_origins,
            self.bind_subject_to_peer,
        )?;
        Ok(Provider {
            pop,
            name,
            issuer: self.issuer,
            audiences: self.audiences,
            algorithms,
            local_jwks,
            remote_jwks,
            clock_skew_seconds,
            max_lifetime_seconds,
            max_lifetime_is_default,
            max_rsa_bits,
            token_types: self.token_types,
            required_claims: self.required_claims,
            from_headers,
            forward: self.forward,
            claim_to_headers,
        })
    }
}

impl RuleDoc {
    fn validate(self, path: &str, providers: &[Provider]) -> Result<Rule, Error> {
        let m = self.matcher;
        // Rules are compared with decoded paths: decode them the same way (and fold case once).
        let pattern = |text: String| {
            let decoded = decode_unreserved(&text).into_owned();
            if m.case_sensitive { decoded } else { decoded.to_ascii_lowercase() }
        };
        let path_match = match (m.prefix, m.path) {
            (Some(prefix), None) if prefix.starts_with('/') => PathMatch::Prefix(pattern(prefix)),
            (None, Some(exact)) if exact.starts_with('/') => PathMatch::Exact(pattern(exact)),
            (Some(_), None) => return refuse(format!("{path}.match.prefix"), "must start with \"/\""),
            (None, Some(_)) => return refuse(format!("{path}.match.path"), "must start with \"/\""),
            _ => return refuse(format!("{path}.match"), "needs exactly one of \"prefix\" or \"path\""),
        };
        if let Some(methods) = &m.methods {
            if methods.is_empty() {
                return refuse(
                    format!("{path}.match.methods"),
                    "at least one method is needed (omit the field to match any)",
                );
            }
            for (i, method) in methods.iter().enumerate() {
                if !is_header_name(method) || method.bytes().any(|b| b.is_ascii_lowercase()) {
                    return refuse(format!("{path}.match.methods[{i}]"), "expected an upper-case HTTP method");
                }
            }
        }
        let requires_any = self.requires_any.is_some();
        let requires = match (self.requires, self.requires_any) {
            (None, None) => Vec::new(),
            (Some(r), None) => vec![r.validate(&format!("{path}.requires"), providers)?],
            (Some(_), Some(_)) => {
                return refuse(format!("{path}.requires_any"), "a rule has requires or requires_any, not both");
            }
            (None, Some(alternatives)) => {
                if alternatives.is_empty() || alternatives.len() > MAX_ALTERNATIVES {
                    return refuse(
                        format!("{path}.requires_any"),
                        format!("expected 1 to {MAX_ALTERNATIVES} requirements"),
                    );
                }
                alternatives
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| r.validate(&format!("{path}.requires_any[{i}]"), providers))
                    .collect::<Result<_, _>>()?
            }
        };
        if let Some(name) = &self.name {
            let valid = (1..=64).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
            if !valid {
                return refuse(format!("{path}.name"), "1 to 64 letters, digits, '.', '_', ':' or '-'");
            }
        }
        Ok(Rule {
            name: self.name,
            matcher: RouteMatch { path: path_match, methods: m.methods, case_sensitive: m.case_sensitive },
            requires,
            requires_any,
        })
    }
}
