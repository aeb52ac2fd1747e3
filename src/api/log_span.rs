//! The root span of each request (`TracingLogger`), as tracing-actix-web's default builds it
//! but with the path of a request under `/worklist/patients/` or `/ui/patients/` replaced by its
//! route: that path holds a patient reference, which no log may carry. Every event inside a request
//! prints its span's fields, so the default span would print it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

/// Paths whose segments name a patient.
const PATIENT_PATHS: [&str; 2] = ["/worklist/patients/", "/ui/patients/"];

/// What a log may show of a request's path and query.
fn loggable_target<'a>(path_and_query: &'a str, route: &'a str) -> &'a str {
    if PATIENT_PATHS.iter().any(|p| path_and_query.starts_with(p)) {
        route
    } else {
        path_and_query
    }
}

/// The root span builder of the service.
pub struct RootSpan;

impl RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "default".to_owned());
        let path = request.uri().path_and_query().map_or("", |p| p.as_str());
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let info = request.connection_info().clone();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.flavor = ?request.version(),
            http.host = %info.host(),
            http.client_ip = %info.realip_remote_addr().unwrap_or(""),
            http.user_agent = %request
                .headers()
                .get("User-Agent")
                .and_then(|h| h.to_str().ok())
                .unwrap_or(""),
            http.target = %loggable_target(path, &route),
            http.status_code = tracing::field::Empty,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            request_id = %request_id,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use actix_web::test::TestRequest;
    use tracing_actix_web::RootSpanBuilder;

    use super::RootSpan;

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What the service's text log prints for an event inside the root span of `uri`.
    fn logged(uri: &str) -> String {
        let sink = Arc::new(Mutex::new(Vec::<u8>::new()));
        let writer = sink.clone();
        let subscriber =
            crate::telemetry::subscriber("debug", "text", move || Sink(writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let request = TestRequest::with_uri(uri).to_srv_request();
            let span = RootSpan::on_request_start(&request);
            span.in_scope(|| tracing::warn!("store unavailable; answered 503"));
        });
        let text = sink.lock().unwrap().clone();
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn a_patient_path_is_not_logged_and_other_paths_are() {
        let log = logged("/worklist/patients/Patient%2Fphi-77/findings");
        assert!(log.contains("store unavailable"), "{log}");
        assert!(!log.contains("phi-77"), "{log}");
        let log = logged("/ui/patients/phi-78");
        assert!(!log.contains("phi-78"), "{log}");
        let log = logged("/worklist/findings?rule=cbc-surveillance-overdue");
        assert!(log.contains("rule=cbc-surveillance-overdue"), "{log}");
    }
}
