//! The limits of one hook call's content: prefetch resources, draft orders and the
//! `hookInstance` that every call logs. Must not import actix-web, `SQLx` or reqwest.

use super::error::RequestError;
use super::limits::RequestLimits;
use super::request::HookRequest;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cds::request::parse_hook_request;
    use serde_json::json;

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
}
