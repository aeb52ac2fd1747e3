//! The keyed hash that stands for a patient where a patient reference must not be stored
//! (snoozes, issued cards): HMAC-SHA256 of `Patient/{id}` with a server secret, in hex. Without
//! the secret the hash cannot be turned back into the reference, nor recomputed from a guessed
//! one; every replica must share the secret for a snooze made on one to quiet the others.
//!
//! The secret is `privacy.patient_key_secret`. In development without one, a random secret is
//! generated once under the data directory (as the development admin key is) with a warning;
//! production refuses to start without one. Must not import `actix_web` or sqlx.

use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use secrecy::ExposeSecret;

pub use crate::config::PrivacySettings;
use crate::config::{Mode, Settings};

/// The development secret's file in the data directory.
const DEV_SECRET_FILE: &str = "patient-key.secret";
/// Shortest secret accepted: 32 bytes, SHA-256's own strength.
const MIN_SECRET_BYTES: usize = 32;

/// Computes patient keys.
#[derive(Clone)]
pub struct PatientKeys {
    key: hmac::Key,
}

impl std::fmt::Debug for PatientKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientKeys([redacted])")
    }
}

impl PatientKeys {
    /// Keys from a secret.
    pub fn new(secret: &[u8]) -> PatientKeys {
        PatientKeys {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// Keys from the settings (see the module doc).
    ///
    /// # Errors
    ///
    /// Production without a secret, a secret shorter than 32 bytes, or the development
    /// secret's file.
    pub fn load(settings: &Settings) -> anyhow::Result<PatientKeys> {
        if let Some(secret) = &settings.privacy.patient_key_secret {
            let bytes = secret.expose_secret().as_bytes();
            anyhow::ensure!(
                bytes.len() >= MIN_SECRET_BYTES,
                "privacy.patient_key_secret must be at least {MIN_SECRET_BYTES} bytes"
            );
            return Ok(PatientKeys::new(bytes));
        }
        anyhow::ensure!(
            settings.server.mode == Mode::Development,
            "privacy.patient_key_secret is required in production (the keyed hash that \
             links snoozes to patients without storing their references)"
        );
        let secret = dev_secret(&settings.storage.data_dir)?;
        tracing::warn!(
            "DEVELOPMENT patient key secret in use (generated under the data directory): set \
             privacy.patient_key_secret, the same on every replica, before real patient data"
        );
        Ok(PatientKeys::new(&secret))
    }

    /// The key of a patient: `Patient/{id}` or the bare id, hashed as `Patient/{id}`.
    pub fn of(&self, patient: &str) -> String {
        let id = patient.strip_prefix("Patient/").unwrap_or(patient);
        let tag = hmac::sign(&self.key, format!("Patient/{id}").as_bytes());
        tag.as_ref()
            .iter()
            .fold(String::with_capacity(64), |mut out, b| {
                let _ = write!(out, "{b:02x}");
                out
            })
    }
}

/// The development secret, generated on first use.
fn dev_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join(DEV_SECRET_FILE);
    if let Ok(bytes) = std::fs::read(&path) {
        return Ok(bytes);
    }
    std::fs::create_dir_all(data_dir)?;
    let mut secret = vec![0u8; MIN_SECRET_BYTES];
    SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| anyhow::anyhow!("generating the development patient key secret"))?;
    std::fs::write(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::PatientKeys;

    #[test]
    fn a_patient_key_is_hmac_sha256_of_the_reference_and_depends_on_the_secret() {
        // RFC 4231 test case 2 shape: HMAC-SHA256("Jefe", "what do ya want for nothing?").
        let jefe = PatientKeys::new(b"Jefe");
        let tag = aws_lc_rs::hmac::sign(&jefe.key, b"what do ya want for nothing?");
        assert_eq!(
            tag.as_ref()[..4],
            [0x5b, 0xdc, 0xc1, 0x46],
            "the HMAC-SHA256 reference vector"
        );
        let a = PatientKeys::new(&[1u8; 32]);
        let b = PatientKeys::new(&[2u8; 32]);
        assert_eq!(
            a.of("Patient/123"),
            a.of("123"),
            "bare id and reference agree"
        );
        assert_ne!(a.of("Patient/123"), a.of("Patient/124"));
        assert_ne!(
            a.of("Patient/123"),
            b.of("Patient/123"),
            "another secret, another key"
        );
        assert_eq!(a.of("Patient/123").len(), 64);
    }
}
