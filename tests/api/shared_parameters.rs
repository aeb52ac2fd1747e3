//! Parameters that state one duty or threshold in two rules of the shipped pack: a rule reads
//! only its own parameters, so the same number is written twice, and a card that disagrees
//! with its neighbour (the early-window card says no driving until day 14, the neurotoxicity
//! card says the period is over) is a wrong card. Each pair must agree for every product.

use cart_sentinel::engine::load::load_dir;

use crate::helpers::root;

/// (rule, parameter) pairs that must hold the same value for every product.
const SHARED: &[[(&str, &str); 2]] = &[
    [
        ("early-toxicity-window", "no_driving_end_day"),
        ("neurotoxicity-after-cart", "no_driving_end_day"),
    ],
    [
        ("clonal-hematopoiesis-surveillance", "vaf_min_percent"),
        ("cart-order-baseline-risk", "ch_vaf_min_percent"),
    ],
    [
        ("live-vaccine-after-cart", "b_cell_threshold"),
        ("hbv-reactivation-risk", "b_cell_threshold"),
    ],
    [
        ("hbv-dna-monitoring-due", "after_prophylaxis_days"),
        ("hbv-reactivation-risk", "after_prophylaxis_days"),
    ],
];

#[test]
fn parameters_written_in_two_rules_agree_for_every_product() {
    let pack = load_dir(&root().join("cds-hooks")).expect("pack loads");
    let products: Vec<Option<&str>> = std::iter::once(None)
        .chain(pack.cohort.products.keys().map(|p| Some(p.as_str())))
        .collect();
    let mut disagreements = Vec::new();
    for [(rule_a, a), (rule_b, b)] in SHARED {
        let param = |rule: &str, name: &str| {
            pack.rules[rule]
                .parameters
                .get(name)
                .unwrap_or_else(|| panic!("{rule} has no parameter {name}"))
                .clone()
        };
        let (pa, pb) = (param(rule_a, a), param(rule_b, b));
        assert_eq!(pa.unit, pb.unit, "{rule_a}.{a} and {rule_b}.{b} units");
        for product in &products {
            let (va, vb) = (pa.value_for(*product), pb.value_for(*product));
            if va != vb {
                disagreements.push(format!(
                    "{rule_a}.{a} = {va} but {rule_b}.{b} = {vb} for {}",
                    product.unwrap_or("a patient whose product is not recorded")
                ));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
