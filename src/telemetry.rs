//! Logging with `tracing`: human-readable by default, JSON on request.
//!
//! What never to log: access tokens, `fhirAuthorization`, JWTs, patient identifiers, resource
//! bodies, rendered FHIR query URLs (they contain the patient id). Log ids of hook calls
//! (`hookInstance`), service ids, counts, durations and status codes instead.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Registry};

/// Builds a subscriber writing to `sink`; `format` is `json` or anything else for text.
pub fn subscriber<W>(filter: &str, format: &str, sink: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = Registry::default().with(filter);
    if format == "json" {
        Box::new(registry.with(tracing_subscriber::fmt::layer().json().with_writer(sink)))
    } else {
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(sink),
            ),
        )
    }
}

/// Installs the global subscriber (once, from `main`). `RUST_LOG` overrides `filter`.
pub fn init(filter: &str, format: &str) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| filter.to_owned());
    let _ = tracing::subscriber::set_global_default(subscriber(&filter, format, std::io::stderr));
}
