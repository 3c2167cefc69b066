//! The command line, as clap derive types. Help text lives here; behaviour lives in the
//! command modules.

use clap::{Args, Parser, Subcommand, ValueEnum};
use edgeward::Algorithm;
use std::path::PathBuf;

const ABOUT: &str = "Verify JWT access tokens against an edgeward policy; make keys and development tokens.";

const LONG_ABOUT: &str = "\
Verify JWT access tokens against an edgeward policy; make keys and development tokens.

The policy is the same JSON document the Envoy filter and the npm package read; docs/policy.md in
the edgeward repository describes every field, its default, and every error code.

A first session, from nothing to a verified token:

  edgeward keygen --alg ES256 --kid k1 --private-out key.json --public-out jwks.json
  # put jwks.json into your policy as providers.<name>.local_jwks
  edgeward mint --key key.json --iss https://idp.example.com --aud orders-api \\
      --sub bot-7 --scope read:orders > token.txt
  edgeward verify --policy policy.json --scope read:orders < token.txt
  edgeward verify --policy policy.json --method GET --path /orders < token.txt
  edgeward check --policy policy.json --example-token token.txt

Tokens left in code, configuration or git history: edgeward scan --help.

Exit status: 0 success (token accepted), 1 token refused, 2 bad usage, file or policy,
3 --fetch-keys could not get a provider's keys.";

/// The `edgeward` command.
#[derive(Debug, Parser)]
#[command(name = "edgeward", version, about = ABOUT, long_about = LONG_ABOUT, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify a token against a policy (exit 0 accepted, 1 refused, 2 bad usage or policy, 3 keys not fetched).
    #[command(args_override_self = true, long_about = VERIFY_LONG_ABOUT, after_long_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
    /// Load a policy as the Envoy filter would and report weak spots (exit 0 clean, 1 findings, 2 unusable, 3 keys not fetched).
    #[command(args_override_self = true, long_about = CHECK_LONG_ABOUT)]
    Check(CheckArgs),
    /// Generate a signing key: a private JWK, its public JWKS, or both as files.
    #[command(args_override_self = true, long_about = KEYGEN_LONG_ABOUT, after_long_help = KEYGEN_EXAMPLES)]
    Keygen(KeygenArgs),
    /// Sign a development token with a private JWK (the issuer's side, for tests).
    #[command(args_override_self = true, long_about = MINT_LONG_ABOUT, after_long_help = MINT_EXAMPLES)]
    Mint(MintArgs),
    /// Sign a DPoP proof for one request with a bot's private JWK (the bot's side, for tests).
    #[command(args_override_self = true, long_about = PROOF_LONG_ABOUT, after_long_help = PROOF_EXAMPLES)]
    Proof(ProofArgs),
    /// Sum up decision records per bot against a policy: scopes granted vs exercised, refusals, token lifetimes.
    #[command(args_override_self = true, long_about = REPORT_LONG_ABOUT, after_long_help = REPORT_EXAMPLES)]
    Report(ReportArgs),
    /// Key set tools: what a key rotation does to a provider's verifiers.
    #[command(subcommand)]
    Jwks(JwksCommand),
    /// Find tokens in code, configuration and git history, and what makes each a risk (exit 0 clean, 1 findings at or above --fail-on, 2 bad usage).
    #[command(args_override_self = true, long_about = SCAN_LONG_ABOUT, after_long_help = SCAN_EXAMPLES)]
    Scan(ScanArgs),
}

/// `edgeward jwks …`.
#[derive(Debug, Subcommand)]
pub enum JwksCommand {
    /// Compare a provider's old and new JWKS: keys added, removed or changed, and which tokens that would refuse (exit 0 safe, 1 needs care, 2 bad input).
    #[command(args_override_self = true, long_about = JWKS_DIFF_LONG_ABOUT)]
    Diff(JwksDiffArgs),
}

const JWKS_DIFF_LONG_ABOUT: &str = "\
Compare the JWKS gateways hold (OLD) with the one the IdP will publish (NEW), each loaded as the
provider loads a fetched document (its algorithms and limits; unusable keys left out), and say
what the rotation does:

  new-key               a key NEW adds: publish it at least cache_duration_seconds before the IdP
                        signs with it (until a gateway refetches, its tokens are refused)
  removed-key           a key NEW drops: its tokens are refused at once, yet may be valid for up to
                        max_lifetime_seconds + clock_skew_seconds after its last use
  changed-key           a kid that names other key material (or alg/use/key_ops) than before
  keys-left-out         keys of NEW the provider cannot use (their tokens are refused)
  new-document-refused  NEW has no key the provider can use: gateways keep OLD

Exit status: 0 when the rotation only adds keys (new-key reminds of the timing), 1 when a finding
needs care, 2 bad usage, an unreadable file, a policy or an OLD document that does not load.
docs/rotation.md in the edgeward repository is the runbook.";

/// `edgeward jwks diff`.
#[derive(Debug, Args)]
pub struct JwksDiffArgs {
    /// The JWKS gateways hold now.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The JWKS the IdP will publish.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// The policy JSON file (the provider's algorithms, lifetime bound, skew and cache duration).
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The provider the key sets belong to (default: the only one).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// Output: a line per key and finding, or one JSON document.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
}

/// `--format` of `jwks diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Lines for people.
    Text,
    /// One JSON document: {"keys": [...], "findings": [...], "safe": bool}.
    Json,
}

const REPORT_LONG_ABOUT: &str = "\
Read decision records (one JSON line per request: the Envoy access log of envoy/decision-log.yaml,
or the npm middleware's decisionLog; docs/policy.md, \"Decision record\") and sum them up per
principal (iss and sub, with its client_id): first and last seen, the rules it used, the scopes its
tokens were granted and the ones it exercised (required by the rules that let it through), the
unused ones (\"reduce to ...\"), wildcard grants, its longest token lifetime against the policy's
bound, its refusals by code and missing scope; and which principals only ever used long-lived
tokens (over an hour). From the policy alone: every rule's scopes and identities, the public routes.

Records are streamed: any number of them in bounded memory. At most --max-principals principals
are summed up (the report says when more were seen); lines that are not decision records, or are
over 64 KiB, are counted as skipped. Nothing of a token is ever in a record.";

const REPORT_EXAMPLES: &str = "\
Examples:
  edgeward report --policy policy.json /var/log/envoy/edgeward-decisions.log
  edgeward report --policy policy.json --format json decisions-*.log > report.json
  zcat old.log.gz | edgeward report --policy policy.json --format html - > report.html";

/// `edgeward report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The policy JSON file the records were decided by.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// How to print the report.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Most principals summed up; the records of later ones are counted only.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_principals: u32,
    /// Files of decision records, one JSON object per line ('-': stdin).
    #[arg(value_name = "RECORDS", required = true)]
    pub records: Vec<PathBuf>,
}

/// `edgeward report --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Tables for a terminal.
    Text,
    /// One JSON document.
    Json,
    /// One self-contained HTML page (no network: inline CSS and an SVG chart).
    Html,
}

const SCAN_LONG_ABOUT: &str = "\
Find JWTs (compact JWS, and JWE) in files and, with --git-history, in every blob reachable from
any ref of the git repository, and report what makes each one a risk. Tokens are decoded, never
trusted: no signature is checked unless --policy is given.

Files are walked as ripgrep walks them: .gitignore, .ignore and git's excludes are respected
(--no-ignore: not), hidden files and directories are skipped (--hidden: searched), .git is never
walked, symbolic links are not followed. A file with a NUL byte is binary: searched up to it.
Files over --max-filesize are skipped, each named on stderr. Memory stays bounded whatever the
input: files are read in 256 KiB chunks, and a candidate longer than the policy's
max_token_bytes (16384 without --policy) is skipped.

Each token is reported with its place (path:line:column, byte column; for the history the
first commit that added it, commit:path:line:column), type, alg, kid, iss, sub or client_id,
aud, scopes, iat, exp and lifetime, and its findings, by severity:

  critical  alg-none        unsecured (alg none): anyone can make one like it
            accepted        with --policy: the policy accepts it now (a working credential)
  high      still-valid     not expired at --now: anyone who reads it can use it
            no-exp          no exp claim: it never expires
            embedded-key    the header carries a key or key URL (jwk, jku, x5u, x5c)
  medium    long-lived      lifetime (exp - iat, else exp - nbf, else exp - now) over --max-lifetime
            wildcard-scope  a scope with *
            hmac            signed with a shared secret (HS256, HS384, HS512)
            encrypted       a JWE: lifetime and scopes unknown
            unparsed        edgeward's strict decoder refuses its header or claims
  low       (none)          a token, nothing worse known

With --policy, each token is also checked against that policy's keys (local_jwks, --fetch-keys
for remote_jwks): whether a key of its provider verifies the signature, and whether the policy
accepts it now.

A token is never printed: only its redacted form, its first 10 characters and a fingerprint
(eyJhbGciOi…[sha256:3f9a1c2b4d5e]), the same for the same token in every run. To suppress a
finding, put its fingerprint (or the redacted form) on a line of .edgeward-scan-ignore in a
scanned directory, or of --ignore-file; '#' starts a comment.

Exit status: 0 nothing at or above --fail-on (default medium), 1 something is, 2 bad usage, an
unreadable suppression file or policy, or git failing, 3 --fetch-keys could not get a
provider's keys.";

const SCAN_EXAMPLES: &str = "\
Examples:
  edgeward scan                                   # the current directory, as a table
  edgeward scan src config --hidden --git-history # and every blob of the history
  edgeward scan --format sarif > edgeward.sarif   # for a code-scanning dashboard
  edgeward scan --format json | jq -r 'select(.severity == \"critical\") | .path'
  edgeward scan --max-lifetime 15m --fail-on high # CI: fail on live or unsecured tokens only
  edgeward scan --policy policy.json --fetch-keys # which found tokens the policy accepts
  echo 'sha256:3f9a1c2b4d5e  # the test fixture token' >> .edgeward-scan-ignore";

/// `edgeward scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan [default: .].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also search hidden files and directories.
    #[arg(long)]
    pub hidden: bool,
    /// Search files .gitignore, .ignore and git's excludes leave out.
    #[arg(long)]
    pub no_ignore: bool,
    /// Also search every blob reachable from any ref of the repository holding the first PATH (each once, with the first commit that added it).
    #[arg(long)]
    pub git_history: bool,
    /// Output: a table, JSON lines (one object per token), or a SARIF 2.1.0 log.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ScanFormat,
    /// Exit 1 when a token's most severe finding is at or above this.
    #[arg(long, value_enum, default_value = "medium")]
    pub fail_on: FailOn,
    /// A lifetime over this is long-lived: seconds, or with s, m, h, d [default: 3600, the policy default].
    #[arg(long, value_name = "DURATION", value_parser = crate::scan::parse_duration)]
    pub max_lifetime: Option<u64>,
    /// The time for still-valid, in Unix seconds (default: the system clock).
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub now: Option<i64>,
    /// Also check each token against this policy's keys, and take its max_token_bytes.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Fetching the keys of remote_jwks providers (with --policy).
    #[command(flatten)]
    pub fetch: FetchArgs,
    /// A suppression file (fingerprints, one a line) besides each scanned directory's .edgeward-scan-ignore.
    #[arg(long, value_name = "FILE")]
    pub ignore_file: Option<PathBuf>,
    /// Skip files (and blobs) larger than this: bytes, or with K, M, G.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = crate::scan::parse_size)]
    pub max_filesize: u64,
    /// Threads walking and searching files [default: the number of CPUs].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// Aligned columns and a summary line.
    Table,
    /// One JSON object per token, one a line.
    Json,
    /// A SARIF 2.1.0 log.
    Sarif,
}

/// `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any token.
    Low,
    /// Long-lived, wildcard scopes, HMAC, encrypted, or worse.
    Medium,
    /// Still valid, no exp, a key in the header, or worse.
    High,
    /// Unsecured, or accepted by --policy.
    Critical,
    /// Never (report only).
    Never,
}

const PROOF_LONG_ABOUT: &str = "\
Sign a DPoP proof (RFC 9449) for one request with a bot's private JWK: header typ dpop+jwt, alg
and the public jwk; claims jti (random), htm, htu (the URL without query and fragment), iat and
ath (the hash of the access token). A proof is good for one request: edgeward accepts each jti once.
The token and the key are never printed; the proof is.";

const PROOF_EXAMPLES: &str = "\
Examples:
  edgeward keygen --alg ES256 --private-out bot.json --public-out bot-jwks.json
  edgeward mint --key idp.json --iss https://idp.example.com --aud orders-api --scope read:orders \\
      --bind-key bot.json > token.txt
  edgeward proof --key bot.json --method GET --url https://api.example.com/orders/1 < token.txt > proof.txt
  curl -H \"Authorization: DPoP $(cat token.txt)\" -H \"DPoP: $(cat proof.txt)\" https://api.example.com/orders/1";

const VERIFY_LONG_ABOUT: &str = "\
Verify a token against a policy, exactly as the Envoy filter and the npm package would.
With --method and --path, the policy's rules decide the request (the rule that matched, its
provider and scopes), by the same code as the filter and the middleware.

Accepted: exit 0, and {\"provider\", \"header\", \"claims\", \"scopes\"} as JSON on stdout
(with --path also \"rule\", \"access\" and the claim headers an upstream would get).
Refused:  exit 1, {\"error\": {\"code\", \"message\", \"claim\"?, \"scopes_needed\"?}} on stdout, one line on stderr.
Bad usage, an unreadable file or an invalid policy: exit 2 and one line on stderr.
--fetch-keys could not get a provider's keys: exit 3 and one line on stderr.

Keys of a remote_jwks provider: --jwks FILE, or --fetch-keys to fetch them from the IdP: with
\"discovery\": true its OpenID configuration at remote_jwks.uri (default
<issuer>/.well-known/openid-configuration), whose issuer must be the provider's exactly, then its
jwks_uri; else remote_jwks.uri. Each request must finish within remote_jwks.timeout_ms, a document
may be at most 262144 bytes, and redirects are not followed (a 3xx answer fails). https:// only
(plain http:// with --allow-http); TLS trusts Mozilla's root certificates, built into edgeward
(the system's store is not read), or with --ca-file exactly the CAs of that PEM file. Proxy
variables (https_proxy...) are ignored. Keys the provider cannot use are left out with a warning.
With --provider only that provider's keys are fetched.

The token is read from the argument, or from stdin when the argument is '-' or absent
(surrounding whitespace on stdin, such as a final newline, is ignored).
The token is never printed, neither in errors nor in the output.";

const CHECK_LONG_ABOUT: &str = "\
Load a policy exactly as the Envoy filter would (including its own remote_jwks rules: a cluster
and an absolute http(s) URI) and report what weakens it, one line per finding:

  shadowed-rule            a rule an earlier rule always matches first
  weaker-fallback          a later rule that catches near misses of a protected rule with less
  public-catch-all         a rule without requires matching every path
  unreachable-alternative  a requires_any alternative (or its allow_missing) that never decides
                           a request: an earlier alternative always does first
  allow-missing-forwards-claims
                           allow_missing on a rule whose provider sets claim headers: the
                           upstream gets requests with and without them
  wildcard-scopes-allowed  deny_wildcard_scopes is false
  no-lifetime-bound        max_lifetime_seconds is null
  long-lived-tokens        max_lifetime_seconds over a day
  unused-provider          a provider no rule requires

With --example-token FILE (or '-' for stdin; also --token), an example token of one of the
providers (the one whose issuer is its iss) is decoded, not verified (no key, time or audience
check), and each claim the policy relies on for that provider that the token lacks is reported:

  claim-never-carried      a rule's claim condition, or a claim_to_headers claim, on a claim
                           the example token does not carry

The token and its claim values are never printed.

With --fetch-keys (and --allow-http, --ca-file, as for verify) it also fetches the keys of each
remote_jwks provider and loads them under the provider's algorithms and limits, printing how many
keys each gave.

Exit status: 0 no findings, 1 findings, 2 the policy or the example token cannot be used (its
error on stderr), 3 --fetch-keys could not get a provider's keys.";

const VERIFY_EXAMPLES: &str = "\
Examples:
  edgeward verify --policy policy.json eyJhbGciOi...
  edgeward verify --policy policy.json --scope read:orders < token.txt
  edgeward verify --policy policy.json --provider corp-idp --now 1900000000 - < token.txt
  edgeward verify --policy policy.json --jwks jwks.json < token.txt   # keys of a remote_jwks provider
  edgeward verify --policy policy.json --fetch-keys < token.txt       # fetched from the IdP
  edgeward verify --policy policy.json --fetch-keys --ca-file corp-ca.pem < token.txt   # a private CA
  edgeward verify --policy policy.json --method POST --path /orders/7 < token.txt   # the policy's rules decide";

const KEYGEN_LONG_ABOUT: &str = "\
Generate a signing key with the operating system's random number generator.

Prints the private JWK (keep it secret), or with --public the public JWKS to paste into a policy's
local_jwks (of a fresh key, or of an existing one given with --from). With --private-out and
--public-out, writes both files instead (the private one readable by you only) and prints nothing.
Keys carry \"alg\" and \"use\": \"sig\"; RSA keys are 2048 bits.";

const KEYGEN_EXAMPLES: &str = "\
Examples:
  edgeward keygen --alg ES256 --kid k1 > key.json
  edgeward keygen --public --from key.json > jwks.json
  edgeward keygen --alg EdDSA --kid bot-signer --private-out key.json --public-out jwks.json";

const MINT_LONG_ABOUT: &str = "\
Sign a development token with a private JWK (from `edgeward keygen`) and print it.

Claims: iss, aud (a string, or an array when --aud is given more than once), sub, scope,
iat = now, exp = now + ttl, and a random jti; --claim adds or replaces any claim.
The header has alg (from the key), kid (--kid, else the key's) and typ (with --typ).";

const MINT_EXAMPLES: &str = "\
Examples:
  edgeward mint --key key.json --iss https://idp.example.com --aud orders-api \\
      --sub bot-7 --scope \"read:orders write:order_status\" --ttl 900 --typ at+jwt
  edgeward mint --key key.json --iss https://idp.example.com --aud orders-api \\
      --claim client_id=bot-7 --claim 'roles=[\"reader\"]' --now 1900000000
  edgeward mint --key key.json --iss https://idp.example.com --aud orders-api --bind-key bot.json   # DPoP-bound
  edgeward mint --key key.json --iss https://idp.example.com --aud orders-api --bind-cert bot.pem   # certificate-bound";

/// `edgeward verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The policy JSON file.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// The provider to verify against (default: the only one, else the one whose issuer is the token's iss).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// A scope the token must grant; repeatable ("a b" counts as two scopes).
    #[arg(long = "scope", value_name = "S")]
    pub scopes: Vec<String>,
    /// The time to verify at, in Unix seconds (default: the system clock).
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub now: Option<i64>,
    /// A JWKS file to use as the provider's keys (for a provider with remote_jwks, instead of --fetch-keys).
    #[arg(long, value_name = "FILE", conflicts_with = "fetch_keys")]
    pub jwks: Option<PathBuf>,
    /// Fetching the keys of remote_jwks providers.
    #[command(flatten)]
    pub fetch: FetchArgs,
    /// Decide a request with this method by the policy's rules (needs --path).
    #[arg(long, value_name = "METHOD", requires = "path", conflicts_with_all = ["scopes", "provider"])]
    pub method: Option<String>,
    /// Decide a request to this path (and query) by the policy's rules (needs --method).
    #[arg(long, value_name = "PATH", requires = "method")]
    pub path: Option<String>,
    /// With --path: a file holding the request's DPoP proof (the token then comes with the DPoP scheme).
    #[arg(long, value_name = "FILE", requires = "path")]
    pub dpop: Option<PathBuf>,
    /// With --path: the origin the request was sent to (https://api.example.com), for a DPoP proof's htu.
    #[arg(long, value_name = "URL", requires = "path")]
    pub origin: Option<String>,
    /// With --path: the client certificate of the connection (PEM), for certificate-bound tokens.
    #[arg(long, value_name = "PEM", requires = "path")]
    pub peer_cert: Option<PathBuf>,
    /// With --path: the URI SAN (SPIFFE ID) of a CA-verified client certificate, for peers and bind_subject_to_peer.
    #[arg(long, value_name = "URI", requires = "path")]
    pub peer_id: Option<String>,
    /// The token; '-' or absent reads it from stdin.
    #[arg(value_name = "TOKEN")]
    pub token: Option<String>,
}

/// `edgeward check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The policy JSON file.
    #[arg(long, value_name = "FILE")]
    pub policy: PathBuf,
    /// Fetching the keys of remote_jwks providers.
    #[command(flatten)]
    pub fetch: FetchArgs,
    /// A file holding an example token of one of the providers ('-': stdin); decoded, not verified, to report the claims the policy relies on that it lacks.
    #[arg(long, visible_alias = "token", value_name = "FILE")]
    pub example_token: Option<PathBuf>,
}

/// `--fetch-keys` and its options, shared by `verify` and `check`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Fetch the keys of each remote_jwks provider from its IdP (through its discovery document with "discovery": true).
    #[arg(long)]
    pub fetch_keys: bool,
    /// With --fetch-keys: also fetch over plain http:// (no TLS: anyone on the path could swap the keys).
    #[arg(long, requires = "fetch_keys")]
    pub allow_http: bool,
    /// With --fetch-keys: trust the CA certificates in this PEM file instead of the built-in Mozilla roots.
    #[arg(long, value_name = "PEM", requires = "fetch_keys")]
    pub ca_file: Option<PathBuf>,
}

/// `edgeward keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The algorithm the key signs with [default: ES256].
    #[arg(long, value_enum, ignore_case = true)]
    pub alg: Option<Alg>,
    /// The key's id (kid), put in the JWKs and in the tokens it signs [default: the key's RFC 7638 thumbprint].
    #[arg(long, value_name = "K")]
    pub kid: Option<String>,
    /// Print the public JWKS ({"keys": [...]}) instead of the private JWK.
    #[arg(long, conflicts_with_all = ["private_out", "public_out"])]
    pub public: bool,
    /// With --public: the private JWK file whose public JWKS to print (no new key is made).
    #[arg(long, value_name = "FILE", requires = "public")]
    pub from: Option<PathBuf>,
    /// Write the private JWK to FILE (needs --public-out).
    #[arg(long, value_name = "FILE", requires = "public_out")]
    pub private_out: Option<PathBuf>,
    /// Write the public JWKS to FILE (needs --private-out).
    #[arg(long, value_name = "FILE", requires = "private_out")]
    pub public_out: Option<PathBuf>,
    /// Overwrite existing output files.
    #[arg(long)]
    pub force: bool,
}

/// `edgeward mint`.
#[derive(Debug, Args)]
pub struct MintArgs {
    /// The private JWK file (from `edgeward keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The issuer (iss claim).
    #[arg(long, value_name = "ISS")]
    pub iss: String,
    /// An audience (aud claim); repeatable.
    #[arg(long, value_name = "AUD", required = true)]
    pub aud: Vec<String>,
    /// The subject (sub claim).
    #[arg(long, value_name = "SUB")]
    pub sub: Option<String>,
    /// Granted scopes, space-separated (scope claim).
    #[arg(long, value_name = "\"a b\"")]
    pub scope: Option<String>,
    /// Lifetime in seconds (exp = now + ttl).
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub ttl: u64,
    /// An extra claim, k=v; v is JSON if it parses as JSON, else a string. Repeatable; replaces standard claims.
    #[arg(long = "claim", value_name = "K=V")]
    pub claims: Vec<String>,
    /// The typ header (at+jwt for RFC 9068 access tokens).
    #[arg(long, value_name = "TYP")]
    pub typ: Option<String>,
    /// The issue time, in Unix seconds (default: the system clock).
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub now: Option<i64>,
    /// The kid header (default: the key's kid).
    #[arg(long, value_name = "K")]
    pub kid: Option<String>,
    /// Bind the token to this bot key (a JWK file, private or public): cnf.jkt, for DPoP (RFC 9449).
    #[arg(long, value_name = "FILE", conflicts_with = "bind_cert")]
    pub bind_key: Option<PathBuf>,
    /// Bind the token to this client certificate (PEM): cnf["x5t#S256"], for mTLS (RFC 8705).
    #[arg(long, value_name = "PEM")]
    pub bind_cert: Option<PathBuf>,
}

/// `edgeward proof`.
#[derive(Debug, Args)]
pub struct ProofArgs {
    /// The bot's private JWK (from `edgeward keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The request's method (htm).
    #[arg(long, value_name = "METHOD")]
    pub method: String,
    /// The request's URL (htu: its query and fragment are left out).
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The issue time, in Unix seconds (default: the system clock).
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub now: Option<i64>,
    /// The access token the proof goes with (ath); '-' or absent reads it from stdin.
    #[arg(value_name = "TOKEN")]
    pub token: Option<String>,
}

/// The algorithms, spelled as in JWS `alg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256.
    #[value(name = "ES256")]
    Es256,
    /// ECDSA P-384 with SHA-384.
    #[value(name = "ES384")]
    Es384,
    /// ECDSA P-521 with SHA-512.
    #[value(name = "ES512")]
    Es512,
    /// RSA PKCS#1 v1.5 with SHA-256 (2048-bit keys).
    #[value(name = "RS256")]
    Rs256,
    /// RSA PKCS#1 v1.5 with SHA-384 (2048-bit keys).
    #[value(name = "RS384")]
    Rs384,
    /// RSA PKCS#1 v1.5 with SHA-512 (2048-bit keys).
    #[value(name = "RS512")]
    Rs512,
    /// RSA-PSS with SHA-256 (2048-bit keys).
    #[value(name = "PS256")]
    Ps256,
    /// RSA-PSS with SHA-384 (2048-bit keys).
    #[value(name = "PS384")]
    Ps384,
    /// RSA-PSS with SHA-512 (2048-bit keys).
    #[value(name = "PS512")]
    Ps512,
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
}

impl From<Alg> for Algorithm {
    fn from(alg: Alg) -> Algorithm {
        match alg {
            Alg::Es256 => Algorithm::ES256,
            Alg::Es384 => Algorithm::ES384,
            Alg::Es512 => Algorithm::ES512,
            Alg::Rs256 => Algorithm::RS256,
            Alg::Rs384 => Algorithm::RS384,
            Alg::Rs512 => Algorithm::RS512,
            Alg::Ps256 => Algorithm::PS256,
            Alg::Ps384 => Algorithm::PS384,
            Alg::Ps512 => Algorithm::PS512,
            Alg::EdDsa => Algorithm::EdDSA,
        }
    }
}
