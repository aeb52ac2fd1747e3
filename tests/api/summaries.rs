//! Every card summary of the shipped pack is under 140 characters (the standard's limit) when
//! rendered with the longest product label and worst-case values, without relying on the
//! engine's last-resort truncation.

use cart_sentinel::engine::load::load_dir;
use cart_sentinel::engine::rule::Rule;

use crate::helpers::root;

/// Worst-case text of a placeholder.
fn worst(rule: &Rule, name: &str, longest_product: &str) -> String {
    let (head, attr) = name.split_once('.').unwrap_or((name, ""));
    match (head, attr) {
        ("product", _) => longest_product.to_owned(),
        ("target", _) => "unknown target".to_owned(),
        ("day", _) => "10000".to_owned(),
        ("day0" | "today", _) => "2026-12-31".to_owned(),
        ("count", _) => "99".to_owned(),
        ("param", p) => {
            let p = &rule.parameters[p];
            format!("{} {}", p.value, p.unit)
        }
        ("list", l) => {
            let texts: Vec<String> = rule.lists[l]
                .iter()
                .map(|i| fill(rule, &i.text, longest_product))
                .collect();
            texts.join("; ")
        }
        (_, "date") => "2026-12-31".to_owned(),
        (_, "time") => "2026-12-31 23:59 +14:00".to_owned(),
        (_, "value") => "1234.56 ×10⁹/L".to_owned(),
        (_, "vaf") => "100 %".to_owned(),
        (_, "gene") => "DNMT3A".to_owned(),
        // A condition or medication name as EHRs display it; longer names are cut by the engine.
        (_, "display") => "Acute myeloid leukemia, not in remission".to_owned(),
        (_, "") => "182.5 days".to_owned(),
        _ => "x".repeat(20),
    }
}

fn fill(rule: &Rule, template: &str, longest_product: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").expect("balanced") + start;
        out.push_str(&rest[..start]);
        out.push_str(&worst(rule, rest[start + 2..end].trim(), longest_product));
        rest = &rest[end + 2..];
    }
    out + rest
}

#[test]
fn every_summary_fits_in_139_characters_with_the_longest_product_and_values() {
    let pack = load_dir(&root().join("cds-hooks")).expect("pack loads");
    let longest = pack
        .cohort
        .products
        .values()
        .map(|p| p.label())
        .max_by_key(|l| l.chars().count())
        .unwrap();
    assert!(longest.chars().count() >= 34, "{longest}");
    let mut too_long = Vec::new();
    for rule in pack.rules.values() {
        let summaries = std::iter::once(&rule.card.summary)
            .chain(rule.card.variants.iter().filter_map(|v| v.summary.as_ref()));
        for s in summaries {
            let rendered = fill(rule, s, &longest);
            let n = rendered.chars().count();
            if n >= 140 {
                too_long.push(format!("{} ({n}): {rendered}", rule.id));
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "summaries of 140 characters or more:\n{}",
        too_long.join("\n")
    );
}
