use super::*;

#[test]
fn histograms_are_cumulative_with_sum_and_count() {
    let m = Metrics::new();
    m.hook_call("s", "patient-view", 200, Duration::from_micros(800));
    m.hook_call("s", "patient-view", 412, Duration::from_millis(30));
    let text = m.render();
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix} in\n{text}"))
            .to_owned()
    };
    let base = "cart_sentinel_hook_call_duration_seconds";
    let labels = "service=\"s\",hook=\"patient-view\"";
    assert!(line(&format!("{base}_bucket{{{labels},le=\"0.0005\"}}")).ends_with(" 0"));
    assert!(line(&format!("{base}_bucket{{{labels},le=\"0.001\"}}")).ends_with(" 1"));
    assert!(line(&format!("{base}_bucket{{{labels},le=\"0.05\"}}")).ends_with(" 2"));
    assert!(line(&format!("{base}_bucket{{{labels},le=\"+Inf\"}}")).ends_with(" 2"));
    assert_eq!(
        line(&format!("{base}_count{{")),
        format!("{base}_count{{{labels}}} 2")
    );
    let sum: f64 = line(&format!("{base}_sum{{"))
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a number");
    assert!((sum - 0.0308).abs() < 1e-9, "{sum}");
    assert!(text.contains(
        "cart_sentinel_hook_calls_total{service=\"s\",hook=\"patient-view\",status=\"412\"} 1"
    ));
}

#[test]
fn counters_gauges_and_escaping() {
    let m = Metrics::new();
    m.card_issued("r\"1", "warning");
    m.card_issued("r\"1", "warning");
    m.fhir_fetch("ok", Duration::from_millis(20));
    m.fhir_fetch("timeout", Duration::from_millis(300));
    m.jwks_fetch("ok");
    m.set_pack_version(7);
    let text = m.render();
    assert!(
        text.contains("cart_sentinel_cards_issued_total{rule=\"r\\\"1\",indicator=\"warning\"} 2")
    );
    assert!(text.contains("cart_sentinel_fhir_fetches_total{outcome=\"timeout\"} 1"));
    assert!(text.contains("cart_sentinel_fhir_fetch_duration_seconds_count{outcome=\"ok\"} 1"));
    assert!(text.contains("cart_sentinel_jwks_fetches_total{outcome=\"ok\"} 1"));
    assert!(text.contains("cart_sentinel_pack_version 7"));
    assert!(text.contains("# TYPE cart_sentinel_pack_version gauge"));
}
