//! Trusted CDS clients as configured in `[[auth.clients]]`, checked once at startup, and the
//! algorithm allowlist (from which `none` and HMAC are always removed).

use std::str::FromStr;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, AlgorithmFamily};
use url::Url;

use super::jwks::parse_jwk_set;
use super::AuthError;
use crate::config::ClientSettings;

/// One trusted client, its URLs and inline keys parsed.
#[derive(Debug)]
pub(super) struct TrustedClient {
    pub(super) iss: String,
    pub(super) jwks_url: Option<String>,
    jku_allowlist: Vec<String>,
    inline: Vec<Jwk>,
    pub(super) fhir_servers: Vec<Url>,
    pub(super) tenant: Option<String>,
    pub(super) audience: Option<String>,
    pub(super) link_hosts: Option<Vec<String>>,
}

fn http_url(iss: &str, what: &str, url: &str) -> Result<(), AuthError> {
    match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(AuthError::Config(format!(
            "client {iss}: {what} `{url}` is not an http(s) URL"
        ))),
    }
}

impl TrustedClient {
    /// Checks and parses one `[[auth.clients]]` entry.
    pub(super) fn from_settings(c: &ClientSettings) -> Result<TrustedClient, AuthError> {
        if c.iss.trim().is_empty() {
            return Err(AuthError::Config("a client has an empty iss".into()));
        }
        if let Some(url) = &c.jwks_url {
            http_url(&c.iss, "jwks_url", url)?;
        }
        for url in &c.jku_allowlist {
            http_url(&c.iss, "jku_allowlist entry", url)?;
        }
        let inline = match &c.jwks {
            Some(text) => {
                let keys = parse_jwk_set(text.as_bytes()).ok_or_else(|| {
                    AuthError::Config(format!("client {}: jwks is not a JWK Set", c.iss))
                })?;
                if keys.is_empty() {
                    return Err(AuthError::Config(format!(
                        "client {}: jwks has no usable public key",
                        c.iss
                    )));
                }
                keys
            }
            None => Vec::new(),
        };
        if c.jwks_url.is_none() && c.jku_allowlist.is_empty() && inline.is_empty() {
            return Err(AuthError::Config(format!(
                "client {}: needs jwks_url, jku_allowlist or jwks",
                c.iss
            )));
        }
        let fhir_servers = c
            .fhir_servers
            .iter()
            .map(|s| {
                Url::parse(s).map_err(|_| {
                    AuthError::Config(format!("client {}: fhir_servers entry `{s}`", c.iss))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(TrustedClient {
            iss: c.iss.clone(),
            jwks_url: c.jwks_url.clone(),
            jku_allowlist: c.jku_allowlist.clone(),
            inline,
            fhir_servers,
            tenant: c.tenant.clone(),
            audience: c.audience.clone(),
            link_hosts: c.link_hosts.clone(),
        })
    }

    /// Whether this client may name `jku` (exact match).
    pub(super) fn allows_jku(&self, jku: &str) -> bool {
        self.jku_allowlist.iter().any(|a| a == jku)
    }

    /// Inline keys with this `kid`.
    pub(super) fn inline_keys<'a>(&'a self, kid: &'a str) -> impl Iterator<Item = &'a Jwk> {
        self.inline
            .iter()
            .filter(move |k| k.common.key_id.as_deref() == Some(kid))
    }
}

/// The accepted algorithms: the configured names, minus `none` and HMAC (refused even when
/// configured, with a warning). An unknown name or an empty result is a configuration error.
pub(super) fn algorithms(names: &[String]) -> Result<Vec<Algorithm>, AuthError> {
    let mut out = Vec::new();
    for name in names {
        if name.eq_ignore_ascii_case("none") {
            tracing::warn!(alg = %name, "auth.algorithms: `none` is never accepted; ignored");
            continue;
        }
        let alg = Algorithm::from_str(name).map_err(|_| {
            AuthError::Config(format!("auth.algorithms: unknown algorithm `{name}`"))
        })?;
        if alg.family() == AlgorithmFamily::Hmac {
            tracing::warn!(alg = %name, "auth.algorithms: HMAC is never accepted; ignored");
            continue;
        }
        out.push(alg);
    }
    if out.is_empty() {
        return Err(AuthError::Config(
            "auth.algorithms: no asymmetric algorithm left".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_and_hmac_are_removed_even_when_configured() {
        let names: Vec<String> = ["ES384", "none", "HS256", "RS384"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            algorithms(&names).unwrap(),
            [Algorithm::ES384, Algorithm::RS384]
        );
        assert!(algorithms(&["HS512".to_string()]).is_err());
        assert!(algorithms(&["XY999".to_string()]).is_err());
    }

    #[test]
    fn a_client_needs_a_key_source_and_valid_urls() {
        let mut c = ClientSettings {
            iss: "https://ehr".into(),
            jwks_url: None,
            jku_allowlist: Vec::new(),
            jwks: None,
            fhir_servers: Vec::new(),
            tenant: None,
            audience: None,
            link_hosts: None,
        };
        assert!(TrustedClient::from_settings(&c).is_err());
        c.jwks_url = Some("ftp://x/jwks".into());
        assert!(TrustedClient::from_settings(&c).is_err());
        c.jwks_url = Some("https://ehr/jwks".into());
        let t = TrustedClient::from_settings(&c).unwrap();
        assert!(!t.allows_jku("https://ehr/jwks"));
        c.jwks = Some(r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}"#.into());
        assert!(
            TrustedClient::from_settings(&c).is_err(),
            "symmetric keys are dropped"
        );
    }
}
