//! `cart-sentinel population run` and `population findings` as an operator uses them: two runs
//! over two exports into one store, the second closing one finding and opening another.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::{load_json, root};
use crate::population::{own_resources, write_export};

const NOW: &str = "2026-06-15T12:00:00Z";
/// A recipient with no CBC on record: `cbc-surveillance-overdue` fires.
pub(crate) const OVERDUE: &str = "cbc-surveillance-overdue/fires-no-cbc-on-record";
/// A recipient whose CBC is recent enough: it does not.
pub(crate) const CBC_DONE: &str = "cbc-surveillance-overdue/nm-phase-edge-day-1826-cbc-200-days";
/// Another recipient, due for the annual survivorship review.
pub(crate) const SURVIVORSHIP: &str = "annual-survivorship-screening/fires-day-366-no-visit";

pub(crate) fn fixture(name: &str) -> Value {
    load_json(format!("fixtures/patients/{name}.request.json"))
}

pub(crate) fn patient_of(request: &Value) -> String {
    request["context"]["patientId"].as_str().unwrap().to_owned()
}

/// The fixture's request with its patient id replaced by `patient` everywhere.
pub(crate) fn as_patient(name: &str, patient: &str) -> Value {
    let request = fixture(name);
    let text = request.to_string().replace(&patient_of(&request), patient);
    serde_json::from_str(&text).unwrap()
}

pub(crate) fn cli(data_dir: &Path, args: &[&str]) -> Output {
    cli_with(data_dir, args, &[])
}

/// `cart-sentinel ARGS` on `data_dir` and the shipped pack, with the extra settings `env`.
pub(crate) fn cli_with(data_dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cart-sentinel"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("SENTINEL__STORAGE__DATA_DIR", data_dir)
        .env("SENTINEL__RULES__DIR", root().join("cds-hooks"))
        .output()
        .expect("run the command")
}

/// `population run` over `export`: whether it succeeded, and what it printed.
fn try_run(data_dir: &Path, export: &Path) -> (bool, String) {
    let export = export.to_str().unwrap();
    let out = cli(
        data_dir,
        &["population", "run", "--ndjson", export, "--now", NOW],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.success(), stdout)
}

fn run(data_dir: &Path, export: &Path) -> String {
    let (ok, stdout) = try_run(data_dir, export);
    assert!(ok, "{stdout}");
    stdout
}

/// (patient, rule, first seen run, closed by run) of each CSV row.
pub(crate) fn worklist(data_dir: &Path, all: bool) -> Vec<(String, String, String, String)> {
    let mut args = vec!["population", "findings", "--csv"];
    if all {
        args.push("--all");
    }
    let out = cli(data_dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("patient,name,rule,indicator,summary,product,prevention,due_on,day0,first_seen_run,first_seen_at,last_seen_run,closed_by_run,closed_at,id,latest_action,action_reason,action_until,action_by,action_at")
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let columns = [
        at("patient"),
        at("rule"),
        at("first_seen_run"),
        at("closed_by_run"),
    ];
    let mut rows: Vec<_> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let [patient, rule, first, closed] = columns.map(|i| r[i].to_owned());
            (patient, rule, first, closed)
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_second_run_closes_the_finding_it_no_longer_finds_and_opens_a_new_one() {
    let data = tempfile::tempdir().unwrap();
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let patient = format!("Patient/{}", patient_of(&fixture(OVERDUE)));
    let other = format!("Patient/{}", patient_of(&fixture(SURVIVORSHIP)));
    // The same patient with no CBC, then with a recent one; another recipient in both.
    let mut earlier = own_resources(&fixture(OVERDUE));
    earlier.extend(own_resources(&fixture(SURVIVORSHIP)));
    write_export(first.path(), &earlier);
    let mut later = own_resources(&as_patient(CBC_DONE, &patient_of(&fixture(OVERDUE))));
    later.extend(own_resources(&fixture(SURVIVORSHIP)));
    write_export(second.path(), &later);
    std::fs::write(second.path().join("Empty.ndjson"), "").unwrap();
    std::fs::write(second.path().join("Broken.ndjson"), "{not json\n").unwrap();
    let row = |p: &str, rule: &str, first: &str, closed: &str| {
        (
            p.to_owned(),
            rule.to_owned(),
            first.to_owned(),
            closed.to_owned(),
        )
    };

    let said = run(data.path(), first.path());
    assert!(said.starts_with("run 1 succeeded:"), "{said}");
    let after_one = worklist(data.path(), false);
    let overdue = row(&patient, "cbc-surveillance-overdue", "1", "");
    assert!(after_one.contains(&overdue), "{after_one:?}");

    let said = run(data.path(), second.path());
    assert!(said.starts_with("run 2 succeeded:"), "{said}");
    assert!(said.contains("skipped (not JSON 1,"), "{said}");
    let open = worklist(data.path(), false);
    assert!(
        !open
            .iter()
            .any(|r| (&r.0, &r.1) == (&overdue.0, &overdue.1)),
        "the CBC closed it: {open:?}"
    );
    let all = worklist(data.path(), true);
    let closed = row(&patient, "cbc-surveillance-overdue", "1", "2");
    assert!(all.contains(&closed), "closed by run 2: {all:?}");
    // The same patient, 1,826 days after infusion in the second export: the annual review
    // opens with run 2.
    let opened = row(&patient, "annual-survivorship-screening", "2", "");
    assert!(open.contains(&opened), "{open:?}");
    // What both runs found keeps run 1 as its first.
    let kept: Vec<_> = after_one.iter().filter(|r| r.0 == other).collect();
    assert!(!kept.is_empty(), "{after_one:?}");
    for r in kept {
        assert!(open.contains(r), "{r:?} open since run 1: {open:?}");
    }
}

#[test]
fn a_run_over_a_missing_directory_fails_and_keeps_the_worklist() {
    let data = tempfile::tempdir().unwrap();
    let export = tempfile::tempdir().unwrap();
    write_export(export.path(), &own_resources(&fixture(OVERDUE)));
    run(data.path(), export.path());
    let before = worklist(data.path(), true);
    assert!(!before.is_empty());

    let (ok, stdout) = try_run(data.path(), &export.path().join("nowhere"));
    assert!(!ok);
    assert!(
        stdout.starts_with("run 2 failed: reading ") && stdout.contains("nowhere"),
        "{stdout}"
    );
    assert_eq!(worklist(data.path(), true), before);
}

#[test]
fn findings_are_filtered_by_product_prevention_and_overdue_days() {
    let data = tempfile::tempdir().unwrap();
    let export = tempfile::tempdir().unwrap();
    // Infused 2026-05-26 with no CBC on record: the CBC was due on day 0, 20 days before NOW.
    write_export(export.path(), &own_resources(&fixture(OVERDUE)));
    run(data.path(), export.path());
    let patient = format!("Patient/{}", patient_of(&fixture(OVERDUE)));
    let rules = |filters: &[&str]| -> Vec<String> {
        let mut args = vec!["population", "findings", "--csv"];
        args.extend(filters);
        let out = cli(data.path(), &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        csv::Reader::from_reader(out.stdout.as_slice())
            .records()
            .map(|r| {
                let r = r.unwrap();
                assert_eq!(&r[0], patient);
                r[2].to_owned()
            })
            .collect()
    };
    let cbc = "cbc-surveillance-overdue".to_owned();
    assert!(rules(&["--overdue-days", "19"]).contains(&cbc));
    assert!(
        !rules(&["--overdue-days", "20"]).contains(&cbc),
        "not more than 20"
    );
    assert!(rules(&["--prevention", "secondary"]).contains(&cbc));
    assert!(rules(&["--prevention", "tertiary"]).is_empty());
    // The record names no product (an infusion procedure only).
    assert!(rules(&["--product", "axi-cel"]).is_empty());
    let refused = cli(
        data.path(),
        &["population", "findings", "--prevention", "none"],
    );
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("primary, secondary or tertiary"), "{said}");
}
