//! Headless Chromium for the page tests, driven through chromedriver with fantoccini (a
//! WebDriver client: the standard protocol, so the tests read as a user's steps, and no
//! browser-specific DevTools protocol to follow across Chromium versions).
//!
//! Without chromium, chromedriver or axe-core (`npm ci` in `tests/browser`, which `.ci/run`
//! does), a test prints why in capitals and returns; with `CART_SENTINEL_BROWSER_TESTS=required`
//! (set by `.ci/run`) it fails instead. One browser at a time (a lock), so that the tests do not
//! crowd a small machine. Screenshots at 1366×768 go to `target/screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::sync::{Mutex, MutexGuard};

use crate::helpers::root;

const WIDTH: u32 = 1366;
const HEIGHT: u32 = 768;

fn path_of(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

fn axe_path() -> PathBuf {
    root().join("tests/browser/node_modules/axe-core/axe.min.js")
}

/// A running chromedriver with one headless Chromium session.
pub struct Browser {
    pub client: Client,
    driver: Child,
    axe: String,
    _turn: MutexGuard<'static, ()>,
}

fn turn() -> &'static Mutex<()> {
    static TURN: OnceLock<Mutex<()>> = OnceLock::new();
    TURN.get_or_init(|| Mutex::new(()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// A browser, or `None` (after saying so loudly) when one cannot be had on this machine
    /// and CI did not ask for it.
    pub async fn start() -> Option<Browser> {
        let chromium = path_of("CHROMIUM", "/usr/bin/chromium");
        let chromedriver = path_of("CHROMEDRIVER", "/usr/bin/chromedriver");
        let missing: Vec<String> = [&chromium, &chromedriver, &axe_path()]
            .into_iter()
            .filter(|p| !p.exists())
            .map(|p| p.display().to_string())
            .collect();
        if !missing.is_empty() {
            let message = format!(
                "BROWSER TESTS SKIPPED: missing {} (apt-get install chromium chromium-driver; \
                 npm ci --prefix tests/browser)",
                missing.join(", ")
            );
            if std::env::var("CART_SENTINEL_BROWSER_TESTS").as_deref() == Ok("required") {
                panic!("{message}");
            }
            eprintln!("\n*** {message} ***\n");
            return None;
        }
        let guard = turn().lock().await;
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let caps = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run", "--lang=en-GB",
                    format!("--window-size={WIDTH},{HEIGHT}")],
            }
        });
        let caps = match caps {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() > deadline => panic!("chromedriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        // The viewport, not the window, is what a screenshot shows: 1366×768 inside.
        let chrome = client
            .execute(
                "return [outerWidth - innerWidth, outerHeight - innerHeight];",
                vec![],
            )
            .await
            .expect("window size");
        let extra = |i: usize| u32::try_from(chrome[i].as_u64().unwrap_or(0)).unwrap_or(0);
        client
            .set_window_size(WIDTH + extra(0), HEIGHT + extra(1))
            .await
            .expect("window resized");
        let axe = std::fs::read_to_string(axe_path()).expect("axe-core");
        Some(Browser {
            client,
            driver,
            axe,
            _turn: guard,
        })
    }

    /// Opens `url` and waits for its `<main>`.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
        self.client
            .wait()
            .for_element(Locator::Css("main"))
            .await
            .expect("a page with <main>");
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// Runs axe-core on the page and fails on any serious or critical violation, listing them.
    pub async fn assert_accessible(&self, page: &str) {
        self.client
            .execute(&self.axe, vec![])
            .await
            .expect("axe-core loads");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']})
                    .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,
                        help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))))
                    .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        let serious: Vec<&Value> = result
            .as_array()
            .expect("violations")
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            serious.is_empty(),
            "{page}: serious accessibility violations: {serious:#?}"
        );
    }

    /// Writes a screenshot of the viewport (1366×768) to `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root().join("target"), PathBuf::from)
            .join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
    }

    /// Signs in through the development form with `scopes`, which returns to the page `next`.
    pub async fn sign_in(&self, address: &str, scopes: &[&str], next: &str) {
        self.open(&format!("{address}/ui/sign-in?next={next}"))
            .await;
        for checkbox in self
            .client
            .find_all(Locator::Css("input[name=scope]"))
            .await
            .expect("scope boxes")
        {
            let value = checkbox.attr("value").await.unwrap().unwrap_or_default();
            if scopes.contains(&value.as_str()) != checkbox.is_selected().await.unwrap() {
                checkbox.click().await.unwrap();
            }
        }
        self.client
            .find(Locator::Css("form.sign-in button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let back = url::Url::parse(&format!("{address}{next}")).unwrap();
        self.client
            .wait()
            .for_url(&back)
            .await
            .expect("back from signing in");
    }

    /// Closes the session (Chromium), then chromedriver on drop.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// Stops this test's chromedriver, also when the test failed before `close`.
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
