//! Limits on hostile input, reusable by any endpoint that takes a JSON body: nesting depth
//! (checked on the raw bytes, before any parser builds a tree), the number of prefetch
//! resources and draft orders of a hook call, and a bound on hook evaluations in flight.
//! A limit exceeded is a [`RequestError`] naming the field (400); the body size itself is
//! limited by the HTTP layer (413). Must not import actix-web, `SQLx` or reqwest.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::RequestError;
use super::request::HookRequest;

/// The limits applied to a hook call (from `[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Deepest nesting of arrays and objects in the body.
    pub max_json_depth: usize,
    /// Most resources over all prefetch values (a Bundle counts its entries).
    pub max_prefetch_resources: usize,
    /// Most entries in `context.draftOrders`.
    pub max_draft_orders: usize,
}

/// The deepest nesting of arrays and objects in `body`, found by a byte scan that skips
/// strings (escapes included) and stops as soon as `limit` is exceeded. Works on any bytes:
/// invalid JSON is left for the parser to report.
pub fn json_depth_exceeds(body: &[u8], limit: usize) -> bool {
    let (mut depth, mut i) = (0usize, 0usize);
    while let Some(&b) = body.get(i) {
        i += 1;
        match b {
            // Most of a request is string content: jump to its closing quote (memchr is
            // vectorised).
            b'"' => loop {
                let rest = body.get(i..).unwrap_or_default();
                match memchr::memchr2(b'"', b'\\', rest) {
                    None => return false,
                    Some(k) if rest[k] == b'\\' => i += k + 2,
                    Some(k) => {
                        i += k + 1;
                        break;
                    }
                }
            },
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Refuses a body nested deeper than `limit` levels, before it is parsed.
pub fn check_json_depth(body: &[u8], limit: usize) -> Result<(), RequestError> {
    if json_depth_exceeds(body, limit) {
        return Err(RequestError::new(
            "",
            format!("body is nested deeper than {limit} levels"),
        ));
    }
    Ok(())
}

/// Longest `hookInstance` accepted (a UUID has 36 characters).
pub const MAX_HOOK_INSTANCE_CHARS: usize = 128;

/// Refuses a hook call with more prefetch resources or draft orders than `limits` allow, or
/// whose `hookInstance` is too long or holds control characters: it is logged with every call,
/// so it must neither flood the log nor forge log lines.
pub fn check_hook_limits(req: &HookRequest, limits: &RequestLimits) -> Result<(), RequestError> {
    let instance = &req.hook_instance;
    if instance.chars().count() > MAX_HOOK_INSTANCE_CHARS || instance.chars().any(char::is_control)
    {
        return Err(RequestError::new(
            "hookInstance",
            format!("must be at most {MAX_HOOK_INSTANCE_CHARS} printable characters (a UUID)"),
        ));
    }
    let prefetch: usize = req
        .prefetch
        .iter()
        .flat_map(|p| p.values())
        .map(fhir_r4::page::resource_count)
        .sum();
    if prefetch > limits.max_prefetch_resources {
        return Err(RequestError::new(
            "prefetch",
            format!(
                "holds {prefetch} resources; at most {} are accepted",
                limits.max_prefetch_resources
            ),
        ));
    }
    let orders = req.context.draft_orders().map_or(0, |orders| {
        orders
            .get("entry")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len)
    });
    if orders > limits.max_draft_orders {
        return Err(RequestError::new(
            "context.draftOrders.entry",
            format!(
                "holds {orders} orders; at most {} are accepted",
                limits.max_draft_orders
            ),
        ));
    }
    Ok(())
}

/// A bound on hook evaluations in flight. A call that finds no free slot is refused at once
/// (the HTTP layer answers 503 with `Retry-After`): overload becomes fast refusals, not queues.
#[derive(Debug, Clone)]
pub struct HookSlots(Arc<Semaphore>);

impl HookSlots {
    /// `max` slots (at least one).
    pub fn new(max: usize) -> HookSlots {
        HookSlots(Arc::new(Semaphore::new(
            max.clamp(1, Semaphore::MAX_PERMITS),
        )))
    }

    /// A slot, held until the permit is dropped; `None` when all are taken.
    pub fn try_enter(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().try_acquire_owned().ok()
    }
}

/// A bound on hook-call bodies held in memory at once: a call waits here (it is not refused)
/// before its body is read, and leaves once the body is parsed into the (much smaller) request.
/// Parsing is CPU work, so a few more than the worker threads lose no throughput, while
/// without it every open connection's body is buffered at once (peak memory).
#[derive(Debug, Clone)]
pub struct BodySlots {
    slots: Arc<Semaphore>,
    max_bytes: usize,
    read_timeout: std::time::Duration,
}

impl BodySlots {
    /// `max` slots (at least one) for bodies of at most `max_bytes` bytes, each to be read
    /// within `read_timeout`.
    pub fn new(max: usize, max_bytes: usize, read_timeout: std::time::Duration) -> BodySlots {
        BodySlots {
            slots: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
            max_bytes,
            read_timeout,
        }
    }

    /// The largest body accepted (`server.max_body_bytes`).
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// How long a body may take to arrive (`limits.body_read_timeout_ms`).
    pub fn read_timeout(&self) -> std::time::Duration {
        self.read_timeout
    }

    /// Waits for a slot, held until the permit is dropped; `None` only if the bound was closed
    /// (it never is).
    pub async fn enter(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cds::request::parse_hook_request;
    use serde_json::json;

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert!(!json_depth_exceeds(br#"{"a": [[1]]}"#, 3));
        assert!(json_depth_exceeds(br#"{"a": [[[1]]]}"#, 3));
        assert!(!json_depth_exceeds(br#"{"a": "[[[[[[\"[[[["}"#, 1));
        assert!(!json_depth_exceeds(br#"{"a": "\\"}"#, 1));
        assert!(json_depth_exceeds(&b"[".repeat(10_000), 64));
        assert!(!json_depth_exceeds(b"\xff\xfe[]", 1));
        let err = check_json_depth(b"[[[]]]", 2).unwrap_err();
        assert_eq!(err.message, "body is nested deeper than 2 levels");
    }

    /// A byte-by-byte scan, as the reference.
    fn depth_exceeds_bytewise(body: &[u8], limit: usize) -> bool {
        let (mut depth, mut i, mut in_string) = (0usize, 0usize, false);
        while let Some(&b) = body.get(i) {
            i += 1;
            match (in_string, b) {
                (true, b'\\') => i += 1,
                (true, b'"') => in_string = false,
                (false, b'"') => in_string = true,
                (false, b'[' | b'{') => {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
                (false, b']' | b'}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        false
    }

    #[test]
    fn the_string_skipping_scan_agrees_with_a_bytewise_one() {
        // Every request and resource file of the repository, at every limit around its depth.
        // Absolute paths: figment's `Jail` (config tests) moves the process's working directory.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = vec![root.join("benches/data/typical.json")];
        let mut dirs = vec![root.join("fixtures")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                match path.is_dir() {
                    true => dirs.push(path),
                    false => files.push(path),
                }
            }
        }
        assert!(files.len() > 100, "{} files", files.len());
        for file in &files {
            let body = std::fs::read(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
            for limit in 0..12 {
                let expected = depth_exceeds_bytewise(&body, limit);
                assert_eq!(
                    json_depth_exceeds(&body, limit),
                    expected,
                    "{file:?} {limit}"
                );
            }
        }
        // Random bytes from the characters that matter (a fixed linear congruential sequence).
        let alphabet = br#""\[]{}a "#;
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let len = usize::try_from(state >> 58).unwrap();
            let body: Vec<u8> = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    alphabet[usize::try_from(state >> 61).unwrap() % alphabet.len()]
                })
                .collect();
            for limit in 0..4 {
                let expected = depth_exceeds_bytewise(&body, limit);
                assert_eq!(
                    json_depth_exceeds(&body, limit),
                    expected,
                    "{body:?} {limit}"
                );
            }
        }
    }

    #[test]
    fn prefetch_resources_and_draft_orders_are_counted() {
        let limits = RequestLimits {
            max_json_depth: 64,
            max_prefetch_resources: 2,
            max_draft_orders: 1,
        };
        let entry = json!({"resource": {"resourceType": "Observation"}});
        let body = json!({"hook": "order-sign", "hookInstance": "i",
            "context": {"userId": "Practitioner/1", "patientId": "p",
                "draftOrders": {"resourceType": "Bundle", "entry": [entry.clone()]}},
            "prefetch": {"a": {"resourceType": "Patient"}, "b": null,
                "c": {"resourceType": "Bundle", "entry": [entry.clone()]}}});
        let mut req = parse_hook_request(body.to_string().as_bytes(), "order-sign").unwrap();
        assert!(check_hook_limits(&req, &limits).is_ok());
        let one = RequestLimits {
            max_prefetch_resources: 1,
            ..limits
        };
        assert_eq!(check_hook_limits(&req, &one).unwrap_err().field, "prefetch");
        for bad in ["a\nINFO forged".to_owned(), "x".repeat(129)] {
            let mut forged = req.clone();
            forged.hook_instance = bad;
            assert_eq!(
                check_hook_limits(&forged, &limits).unwrap_err().field,
                "hookInstance"
            );
        }
        let prefetch = req.prefetch.as_mut().unwrap();
        prefetch.insert("d".into(), sonic_rs::json!({"resourceType": "Condition"}));
        assert_eq!(
            check_hook_limits(&req, &limits).unwrap_err().field,
            "prefetch"
        );
        let mut body = body;
        body["context"]["draftOrders"]["entry"] = json!([entry.clone(), entry]);
        body.as_object_mut().unwrap().remove("prefetch");
        let req = parse_hook_request(body.to_string().as_bytes(), "order-sign").unwrap();
        assert_eq!(
            check_hook_limits(&req, &limits).unwrap_err().field,
            "context.draftOrders.entry"
        );
    }

    #[tokio::test]
    async fn body_slots_make_calls_wait_their_turn() {
        let slots = BodySlots::new(1, 10, std::time::Duration::from_secs(1));
        let held = slots.enter().await;
        assert!(held.is_some());
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), slots.enter());
        assert!(
            waiting.await.is_err(),
            "a second body waits while the first is held"
        );
        drop(held);
        assert!(slots.enter().await.is_some());
    }

    #[test]
    fn slots_are_refused_when_all_are_taken_and_freed_on_drop() {
        let slots = HookSlots::new(1);
        let held = slots.try_enter();
        assert!(held.is_some());
        assert!(slots.try_enter().is_none());
        drop(held);
        assert!(slots.try_enter().is_some());
    }
}
