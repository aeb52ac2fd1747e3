//! A file server on a raw TCP listener that cuts its first answer mid-body (wiremock always
//! sends whole bodies): `Content-Length` of the whole file, half of it, then the connection
//! closes. Later connections get the whole file.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub struct CutServer {
    pub uri: String,
    pub connections: Arc<AtomicUsize>,
    /// The `Authorization` header of each request, as received.
    pub authorizations: Arc<Mutex<Vec<Option<String>>>>,
}

/// Reads a request head; returns its `Authorization` value.
async fn read_head(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&head).lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("authorization")
            .then(|| value.trim().to_owned())
    })
}

pub async fn start(body: &'static str) -> CutServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let authorizations = Arc::new(Mutex::new(Vec::new()));
    let (count, seen) = (connections.clone(), authorizations.clone());
    tokio::spawn(async move {
        // Ends with the test's runtime.
        while let Ok((mut stream, _)) = listener.accept().await {
            let authorization = read_head(&mut stream).await;
            seen.lock().unwrap().push(authorization);
            let first = count.fetch_add(1, Ordering::SeqCst) == 0;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let sent = if first { &body[..body.len() / 2] } else { body };
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(sent.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    CutServer {
        uri,
        connections,
        authorizations,
    }
}
