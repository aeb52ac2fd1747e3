use super::*;

/// The value of the sample `name` whose labels are exactly `labels` (in any order).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    wanted.sort_unstable();
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        let (n, rest) = series.split_once('{').unwrap_or((series, "}"));
        let mut got: Vec<String> = rest
            .trim_end_matches('}')
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        got.sort_unstable();
        (n == name && got == wanted).then(|| value.parse().expect("a number"))
    })
}

#[test]
fn histograms_are_cumulative_with_sum_and_count() {
    let m = Metrics::new();
    m.hook_call("s", "patient-view", 200, Duration::from_micros(800));
    m.hook_call("s", "patient-view", 412, Duration::from_millis(30));
    let text = m.render();
    let base = "cart_sentinel_hook_call_duration_seconds";
    let labels = [("service", "s"), ("hook", "patient-view")];
    let bucket = |le: &'static str| {
        let mut l = labels.to_vec();
        l.push(("le", le));
        sample(&text, &format!("{base}_bucket"), &l)
    };
    assert_eq!(bucket("0.0005"), Some(0.0), "{text}");
    assert_eq!(bucket("0.001"), Some(1.0), "{text}");
    assert_eq!(bucket("0.05"), Some(2.0), "{text}");
    assert_eq!(bucket("+Inf"), Some(2.0), "{text}");
    assert_eq!(sample(&text, &format!("{base}_count"), &labels), Some(2.0));
    let sum = sample(&text, &format!("{base}_sum"), &labels).expect("a sum");
    assert!((sum - 0.0308).abs() < 1e-9, "{sum}");
    let calls = [
        ("service", "s"),
        ("hook", "patient-view"),
        ("status", "412"),
    ];
    assert_eq!(
        sample(&text, "cart_sentinel_hook_calls_total", &calls),
        Some(1.0)
    );
}

#[test]
fn counters_gauges_and_escaping() {
    let m = Metrics::new();
    m.card_issued("r\"1", "warning");
    m.card_issued("r\"1", "warning");
    m.fhir_fetch("ok", Duration::from_millis(20));
    m.fhir_fetch("timeout", Duration::from_millis(300));
    m.jwks_fetch("ok");
    m.fhirpath_failures(3);
    m.set_pack_version(7);
    let text = m.render();
    let card = [("rule", "r\\\"1"), ("indicator", "warning")];
    assert_eq!(
        sample(&text, "cart_sentinel_cards_issued_total", &card),
        Some(2.0),
        "{text}"
    );
    let timeout = [("outcome", "timeout")];
    assert_eq!(
        sample(&text, "cart_sentinel_fhir_fetches_total", &timeout),
        Some(1.0)
    );
    let ok = [("outcome", "ok")];
    let latency = "cart_sentinel_fhir_fetch_duration_seconds_count";
    assert_eq!(sample(&text, latency, &ok), Some(1.0));
    assert_eq!(
        sample(&text, "cart_sentinel_jwks_fetches_total", &ok),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "cart_sentinel_fhirpath_failures_total", &[]),
        Some(3.0)
    );
    assert_eq!(sample(&text, "cart_sentinel_pack_version", &[]), Some(7.0));
    assert!(text.contains("# TYPE cart_sentinel_pack_version gauge\n"));
    assert!(
        text.ends_with("# EOF\n"),
        "an OpenMetrics exposition ends with # EOF"
    );
}

/// Two registries (two applications in one process, as in the tests) count separately.
#[test]
fn registries_do_not_share_counts() {
    let (a, b) = (Metrics::new(), Metrics::new());
    a.card_issued("r", "info");
    let card = [("rule", "r"), ("indicator", "info")];
    assert_eq!(
        sample(&a.render(), "cart_sentinel_cards_issued_total", &card),
        Some(1.0)
    );
    assert_eq!(
        sample(&b.render(), "cart_sentinel_cards_issued_total", &card),
        None
    );
}
