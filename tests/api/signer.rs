//! Test-only CDS client keys and tokens: ES384 and RS384 key pairs generated for each run
//! (aws-lc-rs, so no private key is committed), their JWK Set as a wiremock JWKS endpoint, and
//! tokens with chosen headers and claims, including hostile ones (`alg: none`, HMAC).

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P384_SHA384_FIXED_SIGNING};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The `iss` of the test EHR.
pub const ISS: &str = "https://ehr.example.org";

/// One signing key with its public JWK.
pub struct Signer {
    pub kid: String,
    pub alg: Algorithm,
    key: EncodingKey,
    pub jwk: Value,
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (its `privateKey` OCTET STRING).
fn pkcs8_inner(der: &[u8]) -> &[u8] {
    fn header(d: &[u8]) -> (u8, usize, usize) {
        let (tag, first) = (d[0], d[1] as usize);
        if first < 0x80 {
            return (tag, 2, first);
        }
        let n = first & 0x7f;
        let len = d[2..2 + n]
            .iter()
            .fold(0usize, |a, b| (a << 8) | *b as usize);
        (tag, 2 + n, len)
    }
    let (_, outer_hdr, _) = header(der);
    let mut rest = &der[outer_hdr..];
    loop {
        let (tag, hdr, len) = header(rest);
        if tag == 0x04 {
            return &rest[hdr..hdr + len];
        }
        rest = &rest[hdr + len..];
    }
}

impl Signer {
    fn from_key(kid: &str, alg: Algorithm, key: EncodingKey) -> Signer {
        let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&key, alg).expect("public JWK"))
            .expect("JWK as JSON");
        jwk["kid"] = json!(kid);
        Signer {
            kid: kid.to_owned(),
            alg,
            key,
            jwk,
        }
    }

    /// A fresh P-384 key.
    pub fn es384(kid: &str) -> Signer {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &SystemRandom::new())
                .expect("P-384 key");
        Signer::from_key(
            kid,
            Algorithm::ES384,
            EncodingKey::from_ec_der(pkcs8.as_ref()),
        )
    }

    /// A fresh RSA-2048 key.
    pub fn rs384(kid: &str) -> Signer {
        let pair =
            aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA key");
        let der: Pkcs8V1Der = pair.as_der().expect("PKCS#8");
        let key = EncodingKey::from_rsa_der(pkcs8_inner(der.as_ref()));
        Signer::from_key(kid, Algorithm::RS384, key)
    }

    /// A token with the standard header (`typ: JWT`, this key's `kid` and `alg`).
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(self.header(), claims)
    }

    /// The standard header, to modify.
    pub fn header(&self) -> Header {
        let mut h = Header::new(self.alg);
        h.kid = Some(self.kid.clone());
        h
    }

    /// A token with a custom header, signed with this key.
    pub fn sign_with(&self, header: Header, claims: &Value) -> String {
        encode(&header, claims, &self.key).expect("token")
    }

    /// The public key as an attacker would find it (the JWK's text), to forge HMAC tokens.
    pub fn public_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.jwk).expect("JWK bytes")
    }
}

/// A JWK Set of these keys.
pub fn jwks(signers: &[&Signer]) -> Value {
    json!({"keys": signers.iter().map(|s| s.jwk.clone()).collect::<Vec<_>>()})
}

/// Serves `set` at `/jwks.json` of `server`.
pub async fn serve_jwks(server: &MockServer, set: Value) {
    Mock::given(method("GET"))
        .and(path("/jwks.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(set))
        .mount(server)
        .await;
}

/// Valid claims for `aud`: issued now, expiring in five minutes, a fresh `jti`.
pub fn claims(aud: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": ISS, "aud": aud, "iat": now, "exp": now + 300,
           "jti": uuid::Uuid::new_v4().to_string()})
}

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, b| (a << 8) | *b as u32) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
        }
    }
    out
}

/// An unsigned token (`alg: none`) with this header and these claims.
pub fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64url(&serde_json::to_vec(header).expect("header")),
        b64url(&serde_json::to_vec(claims).expect("claims"))
    )
}

#[test]
fn base64url_matches_the_rfc_4648_vectors() {
    for (plain, coded) in [
        ("", ""),
        ("f", "Zg"),
        ("fo", "Zm8"),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg"),
    ] {
        assert_eq!(b64url(plain.as_bytes()), coded);
    }
}
