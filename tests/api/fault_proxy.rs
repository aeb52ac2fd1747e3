//! A TCP proxy in front of the test PostgreSQL server that fails on command, and the fresh
//! databases the fault tests run on.
//!
//! - [`Mode::Pass`]: bytes flow both ways.
//! - [`Mode::Down`]: what a stopped or restarting server looks like: new connections are refused
//!   (nothing listens on the port) and every open one is reset.
//! - [`Mode::Partition`]: what an unreachable host looks like: connections are accepted and kept,
//!   but nothing is forwarded either way until the mode changes; then what was held flows on.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Pass,
    Down,
    Partition,
}

pub struct FaultProxy {
    pub port: u16,
    mode: watch::Sender<Mode>,
}

impl FaultProxy {
    /// A proxy on a free loopback port forwarding to `upstream`, in [`Mode::Pass`]. It runs
    /// until it is dropped.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = bind(0).expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let (mode, rx) = watch::channel(Mode::Pass);
        tokio::spawn(serve(Some(listener), port, upstream, rx));
        FaultProxy { port, mode }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).expect("a URL");
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(self.port)).unwrap();
        url.to_string()
    }
}

fn bind(port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // The port is given up while the proxy is down and taken again afterwards.
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(64)
}

async fn serve(
    mut listener: Option<TcpListener>,
    port: u16,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Mode>,
) {
    loop {
        let current = *mode.borrow_and_update();
        match (&listener, current) {
            (Some(_), Mode::Down) => listener = None,
            (None, Mode::Pass | Mode::Partition) => match bind(port) {
                Ok(l) => listener = Some(l),
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ => {}
        }
        let Some(l) = &listener else {
            if mode.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            accepted = l.accept() => {
                if let Ok((client, _)) = accepted {
                    tokio::spawn(connection(client, upstream, mode.clone()));
                }
            }
            changed = mode.changed() => if changed.is_err() { return },
        }
    }
}

/// Waits while partitioned; `false` once the proxy is down or gone.
async fn until_passing(mode: &mut watch::Receiver<Mode>) -> bool {
    loop {
        match *mode.borrow_and_update() {
            Mode::Pass => return true,
            Mode::Down => return false,
            Mode::Partition => {}
        }
        if mode.changed().await.is_err() {
            return false;
        }
    }
}

async fn until_down(mut mode: watch::Receiver<Mode>) {
    while *mode.borrow_and_update() != Mode::Down {
        if mode.changed().await.is_err() {
            return;
        }
    }
}

async fn connection(client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    if !until_passing(&mut mode).await {
        reset(client);
        return;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        reset(client);
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let down = tokio::select! {
        () = pump(&mut client_read, &mut server_write, mode.clone()) => false,
        () = pump(&mut server_read, &mut client_write, mode.clone()) => false,
        () = until_down(mode) => true,
    };
    if down {
        reset(client_read.reunite(client_write).expect("the same stream"));
        reset(server_read.reunite(server_write).expect("the same stream"));
    }
}

/// Closes with a reset, as a server that went away does.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
}

async fn pump(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if !until_passing(&mut mode).await || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// The address of the `TEST_POSTGRES_URL` server.
pub fn postgres_addr(admin_url: &str) -> SocketAddr {
    let url = url::Url::parse(admin_url).expect("TEST_POSTGRES_URL is a URL");
    let host = url.host_str().unwrap_or("127.0.0.1");
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    SocketAddr::new(
        host.parse()
            .expect("TEST_POSTGRES_URL names an IP address or localhost"),
        url.port().unwrap_or(5432),
    )
}

/// A fresh database behind a fault proxy, or `None` when `TEST_POSTGRES_URL` is not set.
pub struct ProxiedDb {
    /// The database reached directly.
    pub direct: String,
    /// The same database through [`ProxiedDb::proxy`].
    pub proxied: String,
    pub proxy: FaultProxy,
}

impl ProxiedDb {
    pub async fn create() -> Option<ProxiedDb> {
        let admin_url = std::env::var("TEST_POSTGRES_URL").ok()?;
        let direct = crate::replicas::fresh_postgres().await?;
        let proxy = FaultProxy::start(postgres_addr(&admin_url)).await;
        Some(ProxiedDb {
            proxied: proxy.url(&direct),
            direct,
            proxy,
        })
    }

    /// Ends every session on this database from the server side, as a PostgreSQL restart does.
    pub async fn terminate_sessions(&self) {
        use sqlx::Connection;
        let admin_url = std::env::var("TEST_POSTGRES_URL").expect("TEST_POSTGRES_URL");
        let name = url::Url::parse(&self.direct).unwrap().path()[1..].to_owned();
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&name)
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert!(!ended.is_empty(), "the service had sessions to end");
        admin.close().await.ok();
    }

    pub async fn drop_database(self) {
        crate::replicas::drop_database(&self.direct).await;
    }
}
