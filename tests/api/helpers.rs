//! `spawn_app()`: the real application (same build function as `main`) on a random port, with
//! a temporary SQLite file, a wiremock FHIR server on the allowlist, and a settable clock.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use cart_sentinel::config::Settings;
use cart_sentinel::startup::Application;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tempfile::TempDir;
use wiremock::MockServer;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub fhir: MockServer,
    pub data_dir: Arc<TempDir>,
    pub now: Arc<RwLock<DateTime<Utc>>>,
    pub server: actix_web::dev::ServerHandle,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn test_settings(data_dir: &Path, fhir_uri: &str) -> Settings {
    let mut s = Settings::default();
    s.server.port = 0;
    s.server.workers = 1;
    s.storage.data_dir = data_dir.to_path_buf();
    s.rules.dir = root().join("cds-hooks");
    s.fhir.allowed_servers = Some(vec![fhir_uri.to_owned()]);
    s
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let fhir = MockServer::start().await;
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    spawn_on(fhir, dir, customise).await
}

/// Starts an application on an existing data directory (to test restarts).
pub async fn spawn_on(
    fhir: MockServer,
    dir: Arc<TempDir>,
    customise: impl FnOnce(&mut Settings),
) -> TestApp {
    init_test_log();
    let mut settings = test_settings(dir.path(), &fhir.uri());
    customise(&mut settings);
    let now = Arc::new(RwLock::new(Utc::now()));
    let clock_now = now.clone();
    let app = Application::build_with_clock(settings, Arc::new(move || *clock_now.read().unwrap()))
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        fhir,
        data_dir: dir,
        now,
        server,
    }
}

fn init_test_log() {
    if std::env::var("TEST_LOG").is_ok() {
        cart_sentinel::telemetry::init("debug", "text");
    }
}

impl TestApp {
    /// Stops the server gracefully and returns what a restart needs.
    pub async fn stop(self) -> (MockServer, Arc<TempDir>) {
        self.server.stop(true).await;
        (self.fhir, self.data_dir)
    }

    pub fn set_now(&self, now: DateTime<Utc>) {
        *self.now.write().unwrap() = now;
    }

    pub async fn discovery(&self) -> reqwest::Response {
        self.client
            .get(format!("{}/cds-services", self.address))
            .send()
            .await
            .expect("request")
    }

    pub async fn call(&self, service: &str, body: &Value) -> reqwest::Response {
        self.call_raw(service, serde_json::to_vec(body).unwrap())
            .await
    }

    pub async fn call_raw(&self, service: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .post(format!("{}/cds-services/{service}", self.address))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// A CORS preflight for a POST to `path` from `https://ehr.example` with the headers a
    /// SMART app sends.
    pub async fn preflight(&self, path: &str) -> reqwest::Response {
        self.client
            .request(reqwest::Method::OPTIONS, format!("{}{path}", self.address))
            .header("Origin", "https://ehr.example")
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
            .await
            .expect("request")
    }

    pub async fn feedback(&self, service: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!("{}/cds-services/{service}/feedback", self.address))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Records `uuids` as cards `cart-monitoring` issued, as the service does after a hook call
    /// (feedback may name only cards the service issued).
    pub async fn issue_cards(&self, uuids: &[&str]) {
        self.issue_cards_of(
            ("pjp-prophylaxis-missing", "cart-monitoring", "patient-view"),
            uuids,
        )
        .await;
    }

    /// Records `uuids` as cards the rule issued through the service and hook `(rule, service, hook)`.
    pub async fn issue_cards_of(&self, (rule, service, hook): (&str, &str, &str), uuids: &[&str]) {
        use cart_sentinel::storage::{CardIndicator, IssuedCard};
        let store = cart_sentinel::storage::connect(&self.database_url(), 1)
            .await
            .expect("the application's store");
        let cards: Vec<IssuedCard> = uuids
            .iter()
            .map(|u| IssuedCard {
                card_uuid: (*u).to_owned(),
                rule_id: rule.to_owned(),
                service_id: service.to_owned(),
                hook: hook.to_owned(),
                indicator: CardIndicator::Warning,
                pack_version: 1,
                issued_at: Utc::now(),
                patient_key: None,
            })
            .collect();
        store
            .record_issued_cards(&cards)
            .await
            .expect("issued cards");
    }

    pub fn database_url(&self) -> String {
        format!(
            "sqlite:{}",
            self.data_dir.path().join("cart-sentinel.db").display()
        )
    }
}

pub fn load_json(path: impl AsRef<Path>) -> Value {
    let path = root().join(path);
    serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("valid JSON")
}

/// A minimal valid patient-view request with every prefetch key of the service null.
pub fn patient_view(patient: &str) -> Value {
    let mut prefetch = serde_json::Map::new();
    for key in prefetch_keys("cart-monitoring") {
        prefetch.insert(key, Value::Null);
    }
    serde_json::json!({
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {"userId": "Practitioner/example", "patientId": patient},
        "prefetch": prefetch,
    })
}

pub fn prefetch_keys(service: &str) -> Vec<String> {
    prefetch_templates(service)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// The service's prefetch as discovery gives it with the shipped pack (the descriptor's own
/// keys and those the pack's active rules need).
pub fn prefetch_templates(service: &str) -> Vec<(String, String)> {
    let dir = root().join("cds-hooks");
    let pack = cart_sentinel::engine::load::compile_dir(&dir).expect("shipped pack");
    let services = cart_sentinel::cds::load_services(&dir.join("services")).unwrap();
    let s = services.iter().find(|s| s.id == service).expect("service");
    s.with_prefetch(pack.prefetch(&s.hook))
        .prefetch
        .into_iter()
        .collect()
}

/// Copies the shipped pack (`cds-hooks/`) into `into`, rewriting each text file through `edit`.
pub fn copy_pack(into: &Path, edit: &dyn Fn(&Path, String) -> String) {
    fn copy(from: &Path, to: &Path, edit: &dyn Fn(&Path, String) -> String) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let target = to.join(e.file_name());
            if e.path().is_dir() {
                copy(&e.path(), &target, edit);
            } else {
                let text = std::fs::read_to_string(e.path()).unwrap();
                std::fs::write(target, edit(&e.path(), text)).unwrap();
            }
        }
    }
    copy(&root().join("cds-hooks"), into, edit);
}

/// A development admin token trusted by an application using `data_dir`.
pub fn admin_token(data_dir: &Path, sub: &str, scopes: &[&str], ttl_seconds: i64) -> String {
    let mut s = Settings::default();
    s.storage.data_dir = data_dir.to_path_buf();
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    cart_sentinel::admin::keys::mint_dev_token(&s, sub, &scopes, ttl_seconds)
        .expect("development admin token")
}
