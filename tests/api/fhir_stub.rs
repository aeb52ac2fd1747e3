//! A FHIR server that misbehaves on command, for the faults wiremock cannot produce: a
//! connection reset mid-body, a body that never ends, response headers past the client's
//! limit, and a TLS certificate for another host. Raw HTTP/1.1 over a tokio listener; every
//! answer closes its connection. It records each request's target and `Authorization` header,
//! and counts connections still open (a client that gave up must have closed them).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

/// What the stub does with the next requests.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Behaves: 200 with an empty searchset Bundle.
    None,
    /// Announces a body, sends part of it, and resets the connection.
    ResetMidBody,
    /// Starts a JSON body and sends one byte every 50 ms, never ending it.
    Drip,
    /// 200 with `text/html`: an error page, its end dripped slowly.
    Html,
    /// A Bundle whose `next` link is the URL just requested.
    SelfLoop,
    /// Two pages whose `next` links point at each other.
    Cycle,
    /// 302 to this URL.
    Redirect(String),
    /// 429 with `Retry-After: 30`.
    RateLimited,
    /// 200 with 512 KiB of response headers.
    HugeHeaders,
}

/// One request the stub received.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Path and query.
    pub target: String,
    /// The `Authorization` header, when sent.
    pub authorization: Option<String>,
}

#[derive(Clone)]
struct Shared {
    base: String,
    fault: Arc<Mutex<Fault>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    open: Arc<AtomicUsize>,
}

/// A running stub; it stops when dropped.
pub struct FhirStub {
    /// `http://127.0.0.1:<port>` (or `https://localhost:<port>` with TLS).
    pub base: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FhirStub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FhirStub {
    /// A plain HTTP stub on 127.0.0.1, behaving until told otherwise.
    pub async fn start() -> FhirStub {
        FhirStub::listen("http://127.0.0.1", None).await
    }

    /// A TLS stub on `https://localhost:<port>` presenting `cert_pem` (leaf first) with the
    /// private key `key_pem`; it always behaves once the handshake is done.
    pub async fn start_tls(cert_pem: &[u8], key_pem: &[u8]) -> FhirStub {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .expect("certificates");
        let key = PrivateKeyDer::from_pem_slice(key_pem).expect("private key");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server certificate");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        FhirStub::listen("https://localhost", Some(acceptor)).await
    }

    async fn listen(origin: &str, tls: Option<tokio_rustls::TlsAcceptor>) -> FhirStub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let shared = Shared {
            base: format!("{origin}:{port}"),
            fault: Arc::new(Mutex::new(Fault::None)),
            seen: Arc::default(),
            open: Arc::default(),
        };
        let accepting = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let shared = accepting.clone();
                let tls = tls.clone();
                shared.open.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    match tls {
                        None => serve_tcp(tcp, &shared).await,
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                let _ = serve(stream, &shared, Fault::None).await;
                            }
                        }
                    }
                    shared.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        FhirStub {
            base: shared.base.clone(),
            shared,
            task,
        }
    }

    /// Misbehaves with `fault` from the next request on (`Fault::None` to behave).
    pub fn set(&self, fault: Fault) {
        *self.shared.fault.lock().unwrap() = fault;
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Connections accepted and not yet closed.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }
}

async fn serve_tcp(tcp: TcpStream, shared: &Shared) {
    let fault = shared.fault.lock().unwrap().clone();
    let reset = matches!(fault, Fault::ResetMidBody);
    let Ok(tcp) = serve(tcp, shared, fault).await else {
        return;
    };
    if reset {
        // SO_LINGER 0 makes the close a reset (RST), not an orderly end of stream; with a zero
        // time the close does not block.
        #[allow(deprecated)]
        let _ = tcp.set_linger(Some(Duration::ZERO));
    }
}

/// Reads one request head and answers it with `fault`; the stream, when the answer ended
/// normally.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    shared: &Shared,
    fault: Fault,
) -> std::io::Result<S> {
    let seen = read_head(&mut s).await?;
    let target = seen.target.clone();
    shared.seen.lock().unwrap().push(seen);
    let bundle = |next: Option<String>| {
        let link = next.map_or(String::new(), |url| {
            format!(r#","link":[{{"relation":"next","url":"{url}"}}]"#)
        });
        format!(r#"{{"resourceType":"Bundle","type":"searchset","entry":[]{link}}}"#)
    };
    let json = "application/fhir+json";
    match fault {
        Fault::None => respond(&mut s, "200 OK", json, "", &bundle(None)).await?,
        Fault::SelfLoop => {
            let next = format!("{}{target}", shared.base);
            respond(&mut s, "200 OK", json, "", &bundle(Some(next))).await?;
        }
        Fault::Cycle => {
            let first = target
                .strip_suffix("&stubpage=2")
                .or_else(|| target.strip_suffix("?stubpage=2"));
            let next = match first {
                Some(first) => first.to_owned(),
                None if target.contains('?') => format!("{target}&stubpage=2"),
                None => format!("{target}?stubpage=2"),
            };
            let next = format!("{}{next}", shared.base);
            respond(&mut s, "200 OK", json, "", &bundle(Some(next))).await?;
        }
        Fault::Redirect(to) => {
            let location = format!("Location: {to}\r\n");
            respond(&mut s, "302 Found", "text/plain", &location, "").await?;
        }
        Fault::RateLimited => {
            let outcome = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled"}]}"#;
            let headers = "Retry-After: 30\r\n";
            respond(&mut s, "429 Too Many Requests", json, headers, outcome).await?;
        }
        Fault::HugeHeaders => {
            let line = format!("X-Padding: {}\r\n", "x".repeat(8 * 1024));
            respond(&mut s, "200 OK", json, &line.repeat(64), &bundle(None)).await?;
        }
        Fault::ResetMidBody => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {json}\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n");
            s.write_all(head.as_bytes()).await?;
            s.write_all(br#"{"resourceType":"Bundle","type":"searchset","entry":["#)
                .await?;
            s.flush().await?;
        }
        Fault::Drip => drip(&mut s, json, r#"{"resourceType":"Bundle","entry":["#).await?,
        Fault::Html => drip(&mut s, "text/html", "<html><body>Service temporarily").await?,
    }
    Ok(s)
}

/// Reads up to the end of the request head (at most 64 KiB).
async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> std::io::Result<Seen> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let target = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or_default()
        .to_owned();
    let authorization = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("authorization")
            .then(|| value.trim().to_owned())
    });
    Ok(Seen {
        target,
        authorization,
    })
}

async fn respond<S: AsyncWrite + Unpin>(
    s: &mut S,
    status: &str,
    content_type: &str,
    headers: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body.as_bytes()).await?;
    s.flush().await?;
    s.shutdown().await
}

/// Announces a large body, sends `start`, then one space every 50 ms until the client goes
/// away (or a minute passes, so a stub left behind stops by itself).
async fn drip<S: AsyncWrite + Unpin>(
    s: &mut S,
    content_type: &str,
    start: &str,
) -> std::io::Result<()> {
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n{start}");
    s.write_all(head.as_bytes()).await?;
    s.flush().await?;
    for _ in 0..1200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        s.write_all(b" ").await?;
        s.flush().await?;
    }
    Ok(())
}
