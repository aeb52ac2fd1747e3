#![allow(
    clippy::result_large_err,
    reason = "figment's Jail takes closures returning figment's own error"
)]

use super::*;

#[test]
fn debug_output_never_shows_the_database_password() {
    let mut s = Settings::default();
    s.storage.database_url = Some(SecretString::from("postgres://u:hunter2@db/x"));
    let shown = format!("{s:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("[redacted]"));
}

#[test]
fn development_defaults_are_loopback_and_any_origin() {
    let s = Settings::default();
    assert_eq!(s.cors_origins(), ["*"]);
    assert!(s
        .allowed_fhir_servers()
        .iter()
        .all(|u| u.contains("127.0.0.1") || u.contains("localhost") || u.contains("[::1]")));
    assert_eq!(s.database_url(), "sqlite:data/cart-sentinel.db");
}

#[test]
fn the_time_zone_is_an_iana_name() {
    let mut s = Settings::default();
    assert_eq!(s.time_zone(), Ok(chrono_tz::Tz::UTC));
    s.rules.time_zone = "America/Chicago".into();
    assert_eq!(s.time_zone(), Ok(chrono_tz::Tz::America__Chicago));
    s.rules.time_zone = "-05:00".into();
    let err = s.time_zone().unwrap_err();
    assert!(err.contains("rules.time_zone `-05:00`"), "{err}");
}

#[test]
fn production_defaults_allow_nothing() {
    let mut s = Settings::default();
    s.server.mode = Mode::Production;
    assert!(s.cors_origins().is_empty());
    assert!(s.allowed_fhir_servers().is_empty());
}

#[test]
fn environment_overrides_defaults() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("SENTINEL__SERVER__PORT", "9191");
        jail.set_env("SENTINEL__FHIR__DEADLINE_MS", "250");
        let s = Settings::load()?;
        assert_eq!(s.server.port, 9191);
        assert_eq!(s.fhir.deadline_ms, 250);
        Ok(())
    });
}

#[test]
fn environment_wins_over_the_file() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("s.toml", "[server]\nport = 7000\nhost = \"0.0.0.0\"\n")?;
        jail.set_env("SENTINEL_CONFIG", "s.toml");
        jail.set_env("SENTINEL__SERVER__PORT", "7001");
        let s = Settings::load()?;
        assert_eq!(s.server.port, 7001);
        assert_eq!(s.server.host.to_string(), "0.0.0.0");
        Ok(())
    });
}
