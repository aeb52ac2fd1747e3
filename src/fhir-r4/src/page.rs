//! A prefetch value or a fetched page, as parsed JSON: what the service asks of one before its
//! resources are read.

use serde_json::Value;

/// Prefetch values by key.
pub type Pages = std::collections::BTreeMap<String, Value>;

/// An OperationOutcome in place of the data (a prefetch error).
pub fn is_operation_outcome(page: &Value) -> bool {
    page.get("resourceType").and_then(Value::as_str) == Some("OperationOutcome")
}

/// The `url` of the first `link` with relation `next`: the next page of a search.
pub fn next_link(page: &Value) -> Option<&str> {
    page.get("link")?
        .as_array()?
        .iter()
        .find(|l| l.get("relation").and_then(Value::as_str) == Some("next"))?
        .get("url")?
        .as_str()
}

/// How many resources a JSON value holds (a prefetch value, `context.draftOrders`): a Bundle's
/// entries, one for any other object, none for `null`.
pub fn resource_count(value: &Value) -> usize {
    match value {
        Value::Null => 0,
        v if v.get("resourceType").and_then(Value::as_str) == Some("Bundle") => {
            v.get("entry").and_then(Value::as_array).map_or(0, Vec::len)
        }
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_page_tells_its_next_link_its_size_and_whether_it_is_an_error() {
        let bundle = json!({"resourceType": "Bundle", "entry": [{}, {}],
            "link": [{"relation": "self", "url": "a"}, {"relation": "next", "url": "b"}]});
        assert_eq!(next_link(&bundle), Some("b"));
        assert_eq!(resource_count(&bundle), 2);
        assert_eq!(resource_count(&json!({"resourceType": "Patient"})), 1);
        assert_eq!(resource_count(&Value::Null), 0);
        assert!(is_operation_outcome(
            &json!({"resourceType": "OperationOutcome"})
        ));
        assert!(
            !is_operation_outcome(&bundle)
                && next_link(&json!({"resourceType": "Bundle"})).is_none()
        );
    }
}
