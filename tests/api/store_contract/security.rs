//! JWT replay protection and what connection errors reveal.

use cart_sentinel::storage::{self, StoreError};
use chrono::{TimeDelta, Utc};

use super::for_each_backend;

const EHR: &str = "https://ehr.example";

#[tokio::test]
async fn a_jwt_id_is_accepted_once_until_it_expires() {
    for_each_backend(|b| async move {
        let later = Utc::now() + TimeDelta::minutes(5);
        let earlier = Utc::now() - TimeDelta::seconds(1);
        let remember = |iss: &'static str, jti: &'static str, expiry| {
            let b = &b;
            async move {
                b.remember_jti(iss, jti, expiry)
                    .await
                    .expect("remember jti")
            }
        };

        assert!(remember(EHR, "jti-1", later).await, "{}: first use", b.name);
        assert!(!remember(EHR, "jti-1", later).await, "replay");
        assert!(
            remember("https://other.example", "jti-1", later).await,
            "other issuer"
        );
        assert!(remember(EHR, "jti-2", earlier).await, "already expired");
        assert!(
            remember(EHR, "jti-2", later).await,
            "an expired record does not block"
        );
        assert!(!remember(EHR, "jti-2", later).await, "replay after renewal");
    })
    .await;
}

#[tokio::test]
async fn connect_rejects_unknown_schemes_without_echoing_the_url() {
    let result = storage::connect("mysql://admin:hunter2@db.example/cart", 5).await;

    let Err(StoreError::Config(message)) = result else {
        panic!("expected a configuration error");
    };
    assert!(
        message.contains("sqlite:") && message.contains("postgres://"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
async fn connection_errors_do_not_reveal_the_password() {
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("TEST_POSTGRES_URL not set: skipped");
        return;
    };
    let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL is a URL");
    url.set_username("cs_no_such_role").expect("settable user");
    url.set_password(Some("hunter2"))
        .expect("settable password");

    let Err(error) = storage::connect(url.as_str(), 1).await else {
        panic!("an unknown role must not connect");
    };

    let mut chain = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert!(matches!(error, StoreError::Database(_)), "{chain}");
    assert!(!chain.contains("hunter2"), "{chain}");
}
