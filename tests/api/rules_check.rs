//! `cart-sentinel rules check` accepts the shipped pack and refuses a broken copy, for each kind
//! of error, with the file and path of the error.

use std::path::Path;
use std::process::Command;

use crate::helpers::root;

fn copy_pack(into: &Path) {
    crate::helpers::copy_pack(into, &|_, text| text);
}

fn check(dir: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cart-sentinel"))
        .args(["rules", "check"])
        .arg(dir)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

#[test]
fn the_shipped_pack_passes_rules_check() {
    let (ok, out) = check(&root().join("cds-hooks"));
    assert!(ok, "{out}");
    let rules = std::fs::read_dir(root().join("cds-hooks/rules"))
        .unwrap()
        .count();
    assert!(out.contains(&format!("{rules} rules")), "{out}");
}

#[test]
fn a_broken_pack_is_refused_with_the_path_of_each_kind_of_error() {
    let crs = "rules/possible-crs-fever.yaml";
    let cbc = "rules/cbc-surveillance-overdue.yaml";
    let cases: &[(&str, &str, &str, &str)] = &[
        // (file, replace, with, expected "file: path: message" fragment)
        (crs, "to: {param: window_end_day}", "to: {param: window_end_days}", "rules/possible-crs-fever.yaml: when.all[0].day.to.param: unknown parameter `window_end_days`"),
        (crs, "results: body-temperature", "results: body-temp", "rules/possible-crs-fever.yaml: let.fever.latest.results: unknown value set `body-temp`"),
        (crs, "- exists: fever", "- ge: [{var: fever}, 1]", "rules/possible-crs-fever.yaml: when.all[1].ge[0].var: type error"),
        (crs, "temperature {{fever.value}}\"", "temperature {{fever.valu}}\"", "rules/possible-crs-fever.yaml: card.summary: unknown placeholder `{{fever.valu}}`"),
        (crs, "      unit: Cel\n", "      unit: kelvinish\n", "rules/possible-crs-fever.yaml: let.fever.latest.unit: unknown unit"),
        (crs, "  indicator: critical", "  indicator: hard-stop", "rules/possible-crs-fever.yaml: card.indicator"),
        (crs, "prevention: secondary", "prevention: secondary\npriority: high", "rules/possible-crs-fever.yaml: priority: unknown field `priority`"),
        (crs, "    - exists: fever", "    - exists: fever\n    - rule: no-such-rule", "rules/possible-crs-fever.yaml: when.all[2].rule: unknown rule `no-such-rule`"),
        (crs, "    - exists: fever", "    - exists: fever\n    - not: {rule: possible-crs-fever}", "rules/possible-crs-fever.yaml: when: rule conditions refer to each other in a cycle"),
        (crs, "id: possible-crs-fever", "id: crs-fever", "rules/possible-crs-fever.yaml: id: id `crs-fever` does not match the file name"),
        (crs, "      within_hours: {param: lookback_hours}", "      within_hours: {param: lookback_hours}\n      active: true", "rules/possible-crs-fever.yaml: let.fever.latest.active: `active` does not apply to results"),
        (crs, "      within_hours: {param: lookback_hours}", "      within_hours: {param: lookback_hours}\n      where: \"status = 'final' and value.exists(\"", "rules/possible-crs-fever.yaml: let.fever.latest.where: FHIRPath `status = 'final' and value.exists(`: column 35"),
        (crs, "      within_hours: {param: lookback_hours}", "      within_hours: {param: lookback_hours}\n      where: \"value.memberOf('no-such-set')\"", "rules/possible-crs-fever.yaml: let.fever.latest.where: column 7: memberOf: unknown value set `no-such-set`"),
        ("sources.yaml", "  filter: status = 'completed'", "  filter: status = 'completed' and performed.ofType(dateTime) > %day0", "sources.yaml: procedures.filter: column 55: unknown variable %day0 (a source reads no rule or cohort variable)"),
        ("sources.yaml", "  filter: status = 'completed'", "  filter: status = 'completed' and", "sources.yaml: procedures.filter: FHIRPath `status = 'completed' and`: column 25"),
        (cbc, "resourceType: ServiceRequest", "resourceType: ServiceRequest\n            priority_level: urgent", "rules/cbc-surveillance-overdue.yaml: card.suggestions[0].actions[0].resource"),
        (crs, "  summary:", "  summary: 12\n  x-summary:", "rules/possible-crs-fever.yaml"),
        ("valuesets/ivig.yaml", "id: ivig", "id: ivig\nstatus: maybe", "valuesets/ivig.yaml: status: unknown field `status`"),
        ("rules/hiv-nat-after-lentiviral-cart.yaml", "[liso-cel, cilta-cel,", "[lisocel, cilta-cel,", "rules/hiv-nat-after-lentiviral-cart.yaml: when.all[1].product: unknown product `lisocel`"),
        ("rules/early-toxicity-window.yaml", "products: {obe-cel: 28}", "products: {obecel: 28}", "rules/early-toxicity-window.yaml: parameters.proximity_end_day.products.obecel: unknown product `obecel`"),
        ("cohort.yaml", "    course_gap_days: 22", "    course_gap_days: 0", "cohort.yaml: products.obe-cel.course_gap_days: must be at least 1"),
    ];
    for (file, from, to, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        copy_pack(dir.path());
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(from),
            "{file} no longer contains {from:?}: update this test"
        );
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();

        let (ok, out) = check(dir.path());

        assert!(!ok, "accepted a pack broken with {to:?}");
        assert!(out.contains(expected), "expected {expected:?} in:\n{out}");
    }
}

#[test]
fn every_problem_is_listed_not_only_the_first() {
    let dir = tempfile::tempdir().unwrap();
    copy_pack(dir.path());
    for (file, from, to) in [
        (
            "rules/possible-crs-fever.yaml",
            "results: body-temperature",
            "results: nope-a",
        ),
        (
            "rules/igg-monitoring-due.yaml",
            "status: active",
            "status: enabled",
        ),
    ] {
        let p = dir.path().join(file);
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, t.replacen(from, to, 1)).unwrap();
    }
    let (ok, out) = check(dir.path());
    assert!(!ok);
    assert!(
        out.contains("possible-crs-fever.yaml") && out.contains("igg-monitoring-due.yaml: status"),
        "{out}"
    );
}

/// A card detail longer than `rules.max_detail_chars` (placeholders left out) is a warning: the
/// pack is still accepted, and the warning names the file, the path and the limit.
#[test]
fn a_long_card_detail_is_a_warning_with_the_limit_administrators_set() {
    let run = |limit: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_cart-sentinel"))
            .args(["rules", "check"])
            .arg(root().join("cds-hooks"))
            .env("SENTINEL__RULES__MAX_DETAIL_CHARS", limit)
            .env_remove("SENTINEL_CONFIG")
            .output()
            .expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, tight) = run("40");
    assert!(ok, "a warning does not refuse the pack: {tight}");
    assert!(
        tight.contains("rules/possible-crs-fever.yaml: card.detail: ")
            && tight.contains("should stay within 40 (rules.max_detail_chars)"),
        "{tight}"
    );
    let (ok, loose) = run("100000");
    assert!(ok);
    assert!(!loose.contains("rules.max_detail_chars"), "{loose}");
}
