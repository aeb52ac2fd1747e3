//! Two replicas on one PostgreSQL database: when one replica's connections are cut (the
//! database restarting, as its fault proxy shows it), a pack version the other replica commits
//! meanwhile is announced to nobody; the cut replica re-subscribes when the database is back
//! and catches up on it. Skipped when `TEST_POSTGRES_URL` is not set.

use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::fault_proxy::{Mode, ProxiedDb};
use crate::helpers::spawn_with;
use crate::replicas::{cbc_fires, lengthen_cbc_interval};

#[tokio::test]
async fn a_replica_whose_listener_was_cut_catches_up_on_the_version_committed_meanwhile() {
    let Some(db) = ProxiedDb::create().await else {
        eprintln!("skipped: set TEST_POSTGRES_URL to run the PostgreSQL fault tests");
        return;
    };
    let (direct, proxied) = (db.direct.clone(), db.proxied.clone());
    let a = spawn_with(move |s| s.storage.database_url = Some(SecretString::from(direct))).await;
    let b = spawn_with(move |s| {
        s.storage.database_url = Some(SecretString::from(proxied));
        s.storage.timeout_ms = 500;
    })
    .await;
    assert!(cbc_fires(&b).await);

    db.proxy.set(Mode::Down);
    lengthen_cbc_interval(&a).await;
    // Replica B is away: it keeps answering with the version it has.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        cbc_fires(&b).await,
        "replica B cannot have heard of the change"
    );

    db.proxy.set(Mode::Pass);
    let back = Instant::now();
    while cbc_fires(&b).await {
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "replica B still uses the old interval 10 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (sa, sb) = (a.server.clone(), b.server.clone());
    sa.stop(false).await;
    sb.stop(false).await;
    db.drop_database().await;
}
