//! A prefetch value or a fetched page, as parsed JSON: what the service asks of one before its
//! resources are read.

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

/// Prefetch values by key.
pub type Pages = std::collections::BTreeMap<String, Value>;

fn resource_type(page: &Value) -> Option<&str> {
    page.get("resourceType").and_then(|t| t.as_str())
}

/// An OperationOutcome in place of the data (a prefetch error).
pub fn is_operation_outcome(page: &Value) -> bool {
    resource_type(page) == Some("OperationOutcome")
}

/// The `url` of the first `link` with relation `next`: the next page of a search.
pub fn next_link(page: &Value) -> Option<&str> {
    page.get("link")?
        .as_array()?
        .iter()
        .find(|l| l.get("relation").and_then(|r| r.as_str()) == Some("next"))?
        .get("url")?
        .as_str()
}

/// How many resources a prefetch value holds: a Bundle's entries, one for any other object,
/// none for `null`.
pub fn resource_count(value: &Value) -> usize {
    if value.is_null() {
        0
    } else if resource_type(value) == Some("Bundle") {
        value
            .get("entry")
            .and_then(|e| e.as_array())
            .map_or(0, |a| a.len())
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sonic_rs::json;

    #[test]
    fn a_page_tells_its_next_link_its_size_and_whether_it_is_an_error() {
        let bundle = json!({"resourceType": "Bundle", "entry": [{}, {}],
            "link": [{"relation": "self", "url": "a"}, {"relation": "next", "url": "b"}]});
        assert_eq!(next_link(&bundle), Some("b"));
        assert_eq!(resource_count(&bundle), 2);
        assert_eq!(resource_count(&json!({"resourceType": "Patient"})), 1);
        assert_eq!(resource_count(&Value::new()), 0);
        assert!(is_operation_outcome(
            &json!({"resourceType": "OperationOutcome"})
        ));
        assert!(
            !is_operation_outcome(&bundle)
                && next_link(&json!({"resourceType": "Bundle"})).is_none()
        );
    }
}
