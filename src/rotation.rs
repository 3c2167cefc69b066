//! What a key rotation does to a provider's verifiers (`edgeward jwks diff`; docs/rotation.md):
//! which keys the new JWKS adds, removes or changes, and when that refuses tokens that should
//! pass — a removed key's tokens that may still be valid, a key whose `kid` now names other key
//! material, a new key used before gateways can have fetched it.

use crate::error::Error;
use crate::jwk::{Jwk, KeySet};
use crate::policy::Provider;
use serde::Serialize;

/// One key of a rotation, as the diff names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyChange {
    /// `added`, `removed`, `changed` (same `kid`, other key or parameters) or `kept`.
    pub change: &'static str,
    /// The key's `kid`, if it has one.
    pub kid: Option<String>,
    /// Its RFC 7638 thumbprint (in the new document for `changed`).
    pub thumbprint: String,
    /// Its algorithm restriction (`alg`), if any.
    pub alg: Option<String>,
}

/// A finding about a rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationFinding {
    /// A stable name: `removed-key`, `changed-key`, `new-key`, `keys-left-out`,
    /// `new-document-refused`.
    pub kind: &'static str,
    /// The key it is about (its `kid`, else its thumbprint).
    pub key: String,
    /// What it means and what to do, in a sentence or two.
    pub message: String,
}

/// The diff of two JWKS documents for one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationDiff {
    /// Every key of either document, in the order: the new document's, then the removed ones.
    pub keys: Vec<KeyChange>,
    /// What needs care, in order of the keys.
    pub findings: Vec<RotationFinding>,
}

/// How a key is named in messages: its `kid`, else its thumbprint.
fn name(jwk: &Jwk) -> String {
    jwk.kid.clone().unwrap_or_else(|| format!("(no kid, thumbprint {})", jwk.thumbprint))
}

/// Whether two keys verify alike: the same key and the same parameters that decide its use.
fn same(a: &Jwk, b: &Jwk) -> bool {
    a.thumbprint == b.thumbprint && a.alg == b.alg && a.key_use == b.key_use && a.key_ops == b.key_ops
}

fn change(change: &'static str, jwk: &Jwk) -> KeyChange {
    KeyChange { change, kid: jwk.kid.clone(), thumbprint: jwk.thumbprint.clone(), alg: jwk.alg.clone() }
}

/// The diff of `old` and `new` (each loaded as the provider loads a fetched document: keys it
/// cannot use are left out, and counted in `new_left_out`) under `provider`'s lifetime bound,
/// clock skew and JWKS cache duration.
pub fn diff(provider: &Provider, old: &KeySet, new: &KeySet) -> RotationDiff {
    let mut keys = Vec::new();
    let mut findings = Vec::new();
    let skew = provider.clock_skew_seconds;
    let remote = provider.remote_jwks.as_ref();
    for key in new.keys() {
        let by_kid = key.kid.as_ref().and_then(|kid| old.keys().iter().find(|o| o.kid.as_ref() == Some(kid)));
        let by_key = old.keys().iter().find(|o| same(o, key));
        match (by_kid, by_key) {
            (Some(previous), _) if !same(previous, key) => {
                keys.push(change("changed", key));
                findings.push(RotationFinding {
                    kind: "changed-key",
                    key: name(key),
                    message:
                        "this kid names other key material (or other alg/use/key_ops) than before: tokens the old \
                              key signed under it fail their signature check as soon as a gateway has the new \
                              document; give a new key a new kid"
                            .to_owned(),
                });
            }
            (_, Some(_)) => keys.push(change("kept", key)),
            _ => {
                keys.push(change("added", key));
                let message = match remote {
                    Some(remote) => format!(
                        "gateways keep the old document up to cache_duration_seconds ({} s): publish this key at least \
                         that long before signing with it; a token signed earlier is refused \
                         (ERR_JWKS_NO_MATCHING_KEY) until an unknown-kid refetch, at most one per \
                         refetch_cooldown_seconds ({} s), brings the key in",
                        remote.cache_duration_seconds, remote.refetch_cooldown_seconds
                    ),
                    None => "the provider's keys are local_jwks: the policy itself must be updated (and reloaded) \
                             before tokens signed with this key pass"
                        .to_owned(),
                };
                findings.push(RotationFinding { kind: "new-key", key: name(key), message });
            }
        }
    }
    for key in old.keys() {
        let replaced = key.kid.as_ref().is_some_and(|kid| new.keys().iter().any(|n| n.kid.as_ref() == Some(kid)));
        if replaced || new.keys().iter().any(|n| same(n, key)) {
            continue;
        }
        keys.push(change("removed", key));
        let message = match provider.max_lifetime_seconds {
            Some(max) => format!(
                "tokens this key signed are refused as soon as a gateway has the new document, yet one signed just \
                 before the switch stays valid up to max_lifetime_seconds + clock_skew_seconds ({} s): keep the key \
                 published that long after the IdP stops signing with it",
                max.saturating_add(skew)
            ),
            None => "tokens this key signed are refused as soon as a gateway has the new document, and the provider \
                     has no lifetime bound (max_lifetime_seconds: null): they may have been valid for any time; keep \
                     the key published until every token it signed has expired"
                .to_owned(),
        };
        findings.push(RotationFinding { kind: "removed-key", key: name(key), message });
    }
    if !new.refused().is_empty() || new.skipped() > 0 {
        let left_out = new.refused().len().saturating_add(new.skipped());
        let mut message =
            format!("{left_out} key(s) of the new document are left out: unusable under the provider's algorithms");
        if let Some(first) = new.refused().first() {
            message.push_str(&format!(" (first: {first})"));
        }
        message.push_str("; tokens signed with them are refused");
        findings.push(RotationFinding { kind: "keys-left-out", key: String::new(), message });
    }
    RotationDiff { keys, findings }
}

/// [`diff`] of two documents as the provider would load them. The old one must load (it is
/// what gateways hold); a new one the provider refuses (no usable key, over a limit) is itself
/// the finding `new-document-refused`: gateways keep the old keys and never take the new ones.
pub fn diff_documents(provider: &Provider, old: &[u8], new: &[u8]) -> Result<RotationDiff, Error> {
    let load = |bytes: &[u8]| KeySet::from_bytes_with(bytes, &provider.algorithms, provider.max_rsa_bits);
    let old = load(old)?;
    match load(new) {
        Ok(new) => Ok(diff(provider, &old, &new)),
        Err(refused) => Ok(RotationDiff {
            keys: old.keys().iter().map(|k| change("kept", k)).collect(),
            findings: vec![RotationFinding {
                kind: "new-document-refused",
                key: String::new(),
                message: format!(
                    "the provider refuses the new document ({refused}): gateways keep the old keys, and tokens \
                     signed with any new key are refused"
                ),
            }],
        }),
    }
}

/// Whether a diff is safe as it stands: keys only added or kept, and nothing left out. An added
/// key still needs its publication time (`new-key`), which the diff cannot see: it is a finding,
/// but not a failure.
pub fn is_safe(diff: &RotationDiff) -> bool {
    diff.findings.iter().all(|f| f.kind == "new-key")
}
