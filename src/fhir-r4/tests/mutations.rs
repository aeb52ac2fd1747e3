//! Property-like test: every truncation and mutation of one sample resource decodes to a
//! result (never a panic or a hang).

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::TEMPERATURE;
use fhir_r4::decode;
use serde_json::{json, Value};

/// A step in a path to a node.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn paths(value: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                prefix.push(Step::Key(k.clone()));
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                prefix.push(Step::Index(i));
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn node<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match step {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

fn remove(value: &mut Value, path: &[Step]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (node(value, parent), last) {
        (Value::Object(map), Step::Key(k)) => {
            map.remove(k);
        }
        (Value::Array(items), Step::Index(i)) => {
            items.remove(*i);
        }
        _ => unreachable!("paths follow the structure"),
    }
}

fn all_variants(sample: &Value) -> Vec<Value> {
    let replacements = [
        json!(null),
        json!(""),
        json!([]),
        json!({}),
        json!([null]),
        json!([[]]),
        json!([{}]),
        json!({"x": []}),
        json!({"extension": []}),
        json!(0),
        json!(-1.5e300),
        common::parse("1e400"),
        common::parse("98.600"),
        json!(true),
        json!("x"),
        json!(["x"]),
        json!([{"x": [1]}]),
        json!({"value": "x"}),
    ];
    let mut all = Vec::new();
    paths(sample, &mut Vec::new(), &mut all);
    let mut variants = Vec::new();
    for path in &all {
        let mut deleted = sample.clone();
        remove(&mut deleted, path);
        variants.push(deleted);
        for replacement in &replacements {
            let mut replaced = sample.clone();
            *node(&mut replaced, path) = replacement.clone();
            variants.push(replaced);
        }
        // Unknown siblings inside every object.
        let mut extra = sample.clone();
        if let Value::Object(map) = node(&mut extra, path) {
            map.insert("fhir_comments".into(), json!(["x"]));
            map.insert("zz".into(), json!([]));
            variants.push(extra);
        }
    }
    // Truncations of the text that still parse (cutting at every byte), closed with brackets.
    let text = TEMPERATURE;
    for cut in 0..text.len() {
        if !text.is_char_boundary(cut) {
            continue;
        }
        for closing in [
            "", "}", "]}", "}}", "]}}", "}]}", "\"}", "\"]}", "\"}]}", "\"}}",
        ] {
            if let Ok(v) = serde_json::from_str::<Value>(&format!("{}{closing}", &text[..cut])) {
                variants.push(v);
            }
        }
    }
    variants
}

#[test]
fn every_mutation_decodes_without_panic_or_hang() {
    let sample: Value = serde_json::from_str(TEMPERATURE).expect("valid");
    let variants = all_variants(&sample);
    assert!(variants.len() > 1000, "{} variants", variants.len());
    let count = variants.len();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut outcomes = [0usize; 3];
        for v in &variants {
            match decode(v) {
                Ok(_) => outcomes[0] += 1,
                Err(_) => outcomes[1] += 1,
            }
            outcomes[2] += 1;
        }
        let _ = tx.send(outcomes);
    });
    let outcomes = match rx.recv_timeout(Duration::from_mins(2)) {
        Ok(outcomes) => outcomes,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("decoding {count} variants took over 120 s (hang?)")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("decode panicked"),
    };
    assert_eq!(outcomes[2], count);
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
