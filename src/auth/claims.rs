//! The claims of a CDS client token and the rules they must meet. jsonwebtoken's own
//! [`Validation`] checks the signature, `iss`, `aud`, `exp` and `nbf` (with the leeway); what it
//! cannot express is ours: `iat` not in the future, `jti` present (then remembered by the store
//! against replay), and the client's `tenant`.
//!
//! `exp` must be an integer `NumericDate`: fhirbolt turns on `serde_json`'s `arbitrary_precision`
//! for the whole program, with which jsonwebtoken cannot read a fractional one, so such a token
//! is refused (EHRs send whole seconds).

use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::AuthError;

/// The claims cart-sentinel reads beyond those the library checks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(super) struct Claims {
    pub(super) iss: String,
    pub(super) exp: i64,
    #[serde(default)]
    pub(super) iat: Option<i64>,
    #[serde(default)]
    pub(super) jti: Option<String>,
    #[serde(default)]
    pub(super) tenant: Option<String>,
}

/// What a rejected token's log line may show: its `iss` and `jti`, read only once the
/// signature verified.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Seen {
    pub(super) iss: Option<String>,
    pub(super) jti: Option<String>,
}

/// The `aud` a client must use for `path` on a service reachable at `base_url` (the configured
/// public URL, never the `Host` header): `https://cds.example.org` + `/cds-services/x`.
pub fn audience_for(base_url: &str, path: &str) -> String {
    format!("{}{path}", base_url.trim_end_matches('/'))
}

/// The library's checks for a token signed with `alg` by the client `iss`, for the endpoint
/// `audience`: `exp`, `iss` and `aud` required, `exp` and `nbf` checked with `leeway` seconds.
pub(super) fn validation(alg: Algorithm, iss: &str, audience: &str, leeway: u64) -> Validation {
    let mut v = Validation::new(alg);
    v.set_required_spec_claims(&["exp", "iss", "aud"]);
    v.set_issuer(&[iss]);
    v.set_audience(&[audience]);
    v.validate_nbf = true;
    v.leeway = leeway;
    v
}

/// The reason for a library refusal. `None` when the signature did not verify with this key
/// (another candidate key may still verify it).
pub(super) fn refusal(e: &Error) -> Option<AuthError> {
    Some(match e.kind() {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidAudience => AuthError::Audience,
        ErrorKind::InvalidIssuer => AuthError::UnknownIssuer,
        ErrorKind::MissingRequiredClaim(name) => AuthError::Claim(match name.as_str() {
            "exp" => "exp",
            "iss" => "iss",
            _ => "aud",
        }),
        ErrorKind::InvalidClaimFormat(_) | ErrorKind::Json(_) => AuthError::Claim("claims"),
        _ => return None,
    })
}

impl Claims {
    /// The checks the library does not make: `iat` present and not later than `now` plus the
    /// leeway, `jti` present and not empty.
    pub(super) fn check(&self, now: i64, leeway: i64) -> Result<(), AuthError> {
        let iat = self.iat.ok_or(AuthError::Claim("iat"))?;
        if iat > now.saturating_add(leeway) {
            return Err(AuthError::IssuedInFuture);
        }
        match self.jti.as_deref() {
            Some(j) if !j.is_empty() => Ok(()),
            _ => Err(AuthError::Claim("jti")),
        }
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

    fn claims(raw: serde_json::Value) -> Result<Claims, serde_json::Error> {
        serde_json::from_value(raw)
    }

    #[test]
    fn iat_in_the_future_beyond_the_leeway_and_a_missing_jti_are_refused() {
        let c = claims(json!({"iss": "i", "exp": 2000, "iat": 1000, "jti": "j"})).unwrap();
        assert!(c.check(970, 30).is_ok(), "30 s early, within the leeway");
        assert!(matches!(c.check(969, 30), Err(AuthError::IssuedInFuture)));
        let c = claims(json!({"iss": "i", "exp": 2000, "iat": 900})).unwrap();
        assert!(matches!(c.check(950, 30), Err(AuthError::Claim("jti"))));
        let c = claims(json!({"iss": "i", "exp": 2000, "iat": 900, "jti": ""})).unwrap();
        assert!(matches!(c.check(950, 30), Err(AuthError::Claim("jti"))));
        let c = claims(json!({"iss": "i", "exp": 2000, "jti": "j"})).unwrap();
        assert!(matches!(c.check(950, 30), Err(AuthError::Claim("iat"))));
    }

    #[test]
    fn the_audience_is_the_public_base_url_and_the_path() {
        assert_eq!(
            audience_for("https://cds.example/", "/cds-services/a/feedback"),
            "https://cds.example/cds-services/a/feedback"
        );
    }

    #[test]
    fn library_refusals_name_their_reason_and_a_bad_signature_names_none() {
        let expired = Error::from(ErrorKind::ExpiredSignature);
        assert!(matches!(refusal(&expired), Some(AuthError::Expired)));
        let missing = Error::from(ErrorKind::MissingRequiredClaim("exp".into()));
        assert!(matches!(refusal(&missing), Some(AuthError::Claim("exp"))));
        assert!(refusal(&Error::from(ErrorKind::InvalidSignature)).is_none());
    }
}
