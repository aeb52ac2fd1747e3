//! The claims of a verified CDS client token and their checks (`aud`, `exp`, `iat`, `jti`).
//! Read only after the signature verified. Claims are read from a `serde_json::Value` by hand:
//! with `serde_json`'s `arbitrary_precision` (turned on by fhirbolt) jsonwebtoken's own numeric
//! claim checks cannot read numbers, so they are switched off and done here.

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm};
use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::AuthError;

/// The claims cart-sentinel checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Claims {
    pub(super) iss: String,
    pub(super) aud: Vec<String>,
    pub(super) exp: i64,
    pub(super) iat: i64,
    pub(super) jti: String,
    pub(super) tenant: Option<String>,
}

/// The `aud` a client must use for `path` on a service reachable at `base_url` (the configured
/// public URL, never the `Host` header): `https://cds.example.org` + `/cds-services/x`.
pub fn audience_for(base_url: &str, path: &str) -> String {
    format!("{}{path}", base_url.trim_end_matches('/'))
}

fn string(raw: &Value, name: &'static str) -> Result<String, AuthError> {
    raw.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or(AuthError::Claim(name))
}

/// A `NumericDate`: an integer, or a finite number truncated to whole seconds.
fn seconds(raw: &Value, name: &'static str) -> Result<i64, AuthError> {
    let v = raw.get(name).ok_or(AuthError::Claim(name))?;
    v.as_i64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e15)
                .map(|f| f as i64)
        })
        .ok_or(AuthError::Claim(name))
}

impl Claims {
    /// Reads the claims; every one but `tenant` is required.
    pub(super) fn read(raw: &Value) -> Result<Claims, AuthError> {
        let aud = match raw.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned).ok_or(AuthError::Claim("aud")))
                .collect::<Result<_, _>>()?,
            _ => return Err(AuthError::Claim("aud")),
        };
        let tenant = match raw.get("tenant") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(AuthError::Claim("tenant")),
        };
        Ok(Claims {
            iss: string(raw, "iss")?,
            aud,
            exp: seconds(raw, "exp")?,
            iat: seconds(raw, "iat")?,
            jti: string(raw, "jti")?,
            tenant,
        })
    }

    /// `aud` names `audience` exactly; `exp` not passed and `iat` not in the future, both with
    /// `leeway` seconds of clock skew.
    pub(super) fn check(&self, audience: &str, now: i64, leeway: i64) -> Result<(), AuthError> {
        if !self.aud.iter().any(|a| a == audience) {
            return Err(AuthError::Audience);
        }
        if now > self.exp.saturating_add(leeway) {
            return Err(AuthError::Expired);
        }
        if self.iat > now.saturating_add(leeway) {
            return Err(AuthError::IssuedInFuture);
        }
        Ok(())
    }
}

/// Whether `jwk` may verify a signature made with `alg`: never a symmetric key, the key's own
/// `alg` (when it states one) equal to the header's, and the key type matching the algorithm.
pub(super) fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    if jwk
        .common
        .key_algorithm
        .is_some_and(|k| k != KeyAlgorithm::from(alg))
    {
        return false;
    }
    let name = format!("{alg:?}");
    match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(_) => name.starts_with("ES"),
        AlgorithmParameters::RSA(_) => name.starts_with("RS") || name.starts_with("PS"),
        AlgorithmParameters::OctetKeyPair(_) => alg == Algorithm::EdDSA,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Value {
        json!({"iss": "https://ehr", "aud": "https://cds/cds-services", "exp": 1000, "iat": 900, "jti": "j1"})
    }

    #[test]
    fn audience_accepts_a_string_or_an_array_and_nothing_else() {
        let c = Claims::read(&claims()).unwrap();
        assert!(c.check("https://cds/cds-services", 950, 0).is_ok());
        assert!(matches!(
            c.check("https://cds/cds-services/x", 950, 0),
            Err(AuthError::Audience)
        ));
        let mut raw = claims();
        raw["aud"] = json!(["https://other", "https://cds/cds-services"]);
        assert!(Claims::read(&raw)
            .unwrap()
            .check("https://cds/cds-services", 950, 0)
            .is_ok());
        raw["aud"] = json!(5);
        assert!(matches!(Claims::read(&raw), Err(AuthError::Claim("aud"))));
    }

    #[test]
    fn times_are_checked_with_the_leeway() {
        let c = Claims::read(&claims()).unwrap();
        let aud = "https://cds/cds-services";
        assert!(c.check(aud, 1030, 30).is_ok());
        assert!(matches!(c.check(aud, 1031, 30), Err(AuthError::Expired)));
        assert!(c.check(aud, 870, 30).is_ok());
        assert!(matches!(
            c.check(aud, 869, 30),
            Err(AuthError::IssuedInFuture)
        ));
    }

    #[test]
    fn every_claim_but_tenant_is_required() {
        for name in ["iss", "aud", "exp", "iat", "jti"] {
            let mut raw = claims();
            raw.as_object_mut().unwrap().remove(name);
            assert!(Claims::read(&raw).is_err(), "{name}");
        }
        let mut raw = claims();
        raw["exp"] = json!("1000");
        assert!(matches!(Claims::read(&raw), Err(AuthError::Claim("exp"))));
        raw["exp"] = json!(1000.7);
        assert_eq!(Claims::read(&raw).unwrap().exp, 1000);
    }

    #[test]
    fn the_audience_is_the_public_base_url_and_the_path() {
        assert_eq!(
            audience_for("https://cds.example/", "/cds-services/a/feedback"),
            "https://cds.example/cds-services/a/feedback"
        );
    }
}
