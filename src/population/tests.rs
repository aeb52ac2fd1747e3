//! The runner over small exports written by the tests, with the shipped pack.

#![allow(
    clippy::type_complexity,
    reason = "the runner's results are compared as plain tuples"
)]

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::spool::{next_line, Line};
use super::*;
use crate::engine::load;

fn pack() -> CompiledPack {
    load::compile_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("cds-hooks"))
        .expect("the shipped pack compiles")
}

fn now() -> DateTime<Utc> {
    "2026-06-15T12:00:00Z".parse().expect("a valid time")
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).expect("create");
    for l in lines {
        writeln!(f, "{l}").expect("write");
    }
    path
}

fn patient(id: &str) -> String {
    format!(
        r#"{{"resourceType":"Patient","id":"{id}","name":[{{"given":["Toni"],"family":"Fixture"}}],"birthDate":"1980-04-22"}}"#
    )
}

/// A CAR-T infusion procedure (the shipped cohort's SNOMED CT code) on `date`.
fn infusion(id: &str, patient: &str, date: &str) -> String {
    format!(
        r#"{{"resourceType":"Procedure","id":"{id}","status":"completed","code":{{"coding":[{{"system":"http://snomed.info/sct","code":"1156961008"}}]}},"subject":{{"reference":"Patient/{patient}"}},"performedDateTime":"{date}"}}"#
    )
}

/// Runs the shipped pack over `files` with buckets of `bucket_bytes`; the findings sorted by
/// patient, as (patient, name, rule ids).
fn run_files(
    files: &[PathBuf],
    bucket_bytes: u64,
) -> (Counts, Vec<(String, Option<String>, Vec<String>)>) {
    let pack = pack();
    let spool = tempfile::tempdir().expect("tempdir");
    let progress = Progress::default();
    let input = RunInput {
        pack: &pack,
        now: now(),
        tz: chrono_tz::Tz::UTC,
        spool_dir: spool.path(),
        progress: &progress,
    };
    let mut found = Vec::new();
    let (counts, _) = run_in_buckets(files, &input, bucket_bytes, &mut |p| {
        let rules = p.findings.iter().map(|f| f.rule_id.clone()).collect();
        found.push((p.patient, p.display_name, rules));
        Ok(())
    })
    .expect("the run finishes");
    found.sort();
    let done = progress.snapshot();
    assert_eq!(done.stage, Stage::Done);
    assert_eq!(done.patients_evaluated, counts.patients_read);
    assert_eq!(done.buckets_done, done.buckets_total);
    assert!(
        std::fs::read_dir(spool.path())
            .expect("spool")
            .next()
            .is_none(),
        "the spool directory is removed at the end"
    );
    (counts, found)
}

#[test]
fn a_long_line_is_skipped_whole_and_the_next_one_read() {
    let text = b"0123456789\nabc\r\n\nlast-without-newline";
    let mut reader = std::io::BufReader::with_capacity(4, &text[..]);
    let (mut buf, mut read) = (Vec::new(), 0);
    let mut lines = Vec::new();
    loop {
        match next_line(&mut reader, &mut buf, 5, &mut read).expect("read") {
            Line::End => break,
            Line::TooLong => lines.push("<too long>".to_owned()),
            Line::Read => lines.push(String::from_utf8(buf.trim_ascii().to_vec()).unwrap()),
        }
    }
    assert_eq!(lines, ["<too long>", "abc", "", "<too long>"]);
    assert_eq!(read, text.len() as u64, "every byte is counted as read");
}

#[test]
fn a_run_finds_the_recipient_skips_bad_lines_and_counts_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Unsorted, spread over files by type as an export is, with the recipient's infusion
    // before their Patient resource.
    let procedures = write(
        dir.path(),
        "Procedure.ndjson",
        &[
            infusion("proc1", "r1", "2025-06-14T10:00:00+02:00"),
            String::new(),
            "not json".to_owned(),
            "[1, 2]".to_owned(),
            // Any type in any file; an Observation may lack a subject, but is nobody's.
            r#"{"resourceType":"Observation","id":"x","status":"final","code":{"text":"x"}}"#
                .to_owned(),
            r#"{"resourceType":"Procedure","id":"y","status":5,"code":{"text":"x"},"subject":{"reference":"Patient/r1"}}"#
                .to_owned(),
        ],
    );
    let patients = write(
        dir.path(),
        "Patient.ndjson",
        &[
            patient("n1"),
            patient("r1"),
            r#"{"resourceType":"Patient"}"#.to_owned(),
        ],
    );
    let other = write(
        dir.path(),
        "Basic.ndjson",
        &[r#"{"resourceType":"Basic","id":"b","code":{"text":"x"},"subject":{"reference":"Patient/r1"}}"#.to_owned()],
    );
    let empty = write(dir.path(), "Empty.ndjson", &[]);
    let files = ndjson_files(dir.path()).expect("listed");
    assert_eq!(files, [other, empty, patients, procedures]);

    let (counts, found) = run_files(&files, spool::BUCKET_BYTES);
    assert_eq!(
        found,
        [(
            "Patient/r1".to_owned(),
            Some("Toni Fixture".to_owned()),
            vec![
                "cbc-surveillance-overdue".to_owned(),
                "annual-survivorship-screening".to_owned(),
                "cd4-monitoring-due".to_owned(),
                "inactivated-vaccines-due".to_owned(),
            ]
        )]
    );
    assert_eq!(
        counts,
        Counts {
            files: 4,
            lines: 9,
            resources_read: 3,
            skipped: Skipped {
                not_json: 1,
                not_a_resource: 1,
                unread_type: 1,
                no_patient: 2,
                invalid: 1,
                too_long: 0,
            },
            patients_read: 2,
            cohort_size: 1,
            findings: 4,
        }
    );
}

#[test]
fn many_buckets_give_the_same_findings_as_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ids: Vec<String> = (0..40).map(|i| format!("p{i}")).collect();
    let mut procedures = Vec::new();
    let mut patients = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        patients.push(patient(id));
        // Every third patient is a recipient; the others have no infusion.
        if i % 3 == 0 {
            let date = if i % 2 == 0 {
                "2025-06-14"
            } else {
                "2026-06-10"
            };
            procedures.push(infusion(&format!("proc{i}"), id, date));
        }
    }
    procedures.reverse();
    write(dir.path(), "Procedure.ndjson", &procedures);
    write(dir.path(), "Patient.ndjson", &patients);
    let files = ndjson_files(dir.path()).expect("listed");

    let (one_counts, one) = run_files(&files, u64::MAX);
    let (many_counts, many) = run_files(&files, 256);
    assert_eq!(one_counts.cohort_size, 14);
    assert_eq!(one.len(), 14, "every recipient has a finding: {one:?}");
    assert_eq!(one, many);
    assert_eq!(one_counts, many_counts);
}

#[test]
fn a_missing_directory_is_an_error_naming_it() {
    let err = ndjson_files(Path::new("/nonexistent/export")).expect_err("missing");
    assert!(err.to_string().contains("/nonexistent/export"), "{err}");
}
