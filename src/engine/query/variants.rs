//! Variant findings (`variants` queries): genetic-variant Observations that name a gene of a
//! value set and are pathogenic, read from their components (LOINC 48018-6 gene studied,
//! 53037-8 significance, 81258-6 allele frequency).

use std::rc::Rc;

use fhir_r4::{Component, Concept, ObsValue};
use fhirpath::json::get_str;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::{concept_text, source_items};
use crate::engine::ctx::RuleEval;
use crate::engine::item::Item;
use crate::engine::rule_path;
use crate::engine::source::{self, SourceDef, SourceItem, Variant};
use crate::engine::valueset::{words, Compiled};
use crate::record::{units, PatientRecord, When};

const LOINC: &str = "http://loinc.org";
const GENE_STUDIED: &str = "48018-6";
const SIGNIFICANCE: &str = "53037-8";
const ALLELE_FREQUENCY: &str = "81258-6";

fn has_code(c: &Concept, system: &str, code: &str) -> bool {
    c.codings.iter().any(|k| {
        k.system.as_deref().map(|s| s.trim_end_matches('/')) == Some(system)
            && k.code.as_deref() == Some(code)
    })
}

/// Every pathogenic variant of a gene in `genes`, whatever its allele frequency, in record
/// order; memoised per call (see [`Scans`](crate::engine::scans::Scans)).
pub(super) fn variant_items(re: &RuleEval, def: &SourceDef, genes: &Compiled) -> Rc<[Item]> {
    re.ctx.scans.variants(genes, || {
        let record = re.ctx.input.record;
        let reader = rule_path::reader(re, def);
        source_items(re, def)
            .iter()
            .filter(|s| s.passes(Variant::Filter))
            .filter_map(|s| {
                let resource = s.json.in_record(record)?;
                if !may_name_gene(s, resource, genes) {
                    return None;
                }
                let read = Read {
                    record,
                    when: reader.when(s),
                    value: reader.value(s),
                    interpretation: reader.interpretation(s),
                };
                variant(s, &read, &source::components(resource), genes)
            })
            .collect()
    })
}

/// Whether an Observation can name a gene of `genes`, as [`variant`] first asks: a component
/// coded "gene studied", or a code whose text the value set matches. Most Observations (blood
/// counts) are neither, and reading their components, dates and values would be wasted; this
/// looks at the codings as received, without building concepts.
fn may_name_gene(o: &SourceItem, resource: &Value, genes: &Compiled) -> bool {
    let gene_studied = |k: &Value| {
        get_str(k, "system").map(|s| s.trim_end_matches('/')) == Some(LOINC)
            && get_str(k, "code") == Some(GENE_STUDIED)
    };
    // The codings as `values::concept` reads them: `coding`, or the code itself as a Coding.
    let coded = |code: &Value| match code.get("coding").and_then(|c| c.as_array()) {
        Some(codings) => codings.iter().any(gene_studied),
        None => gene_studied(code),
    };
    let components = resource.get("component").and_then(|c| c.as_array());
    components.is_some_and(|list| list.iter().any(|c| c.get("code").is_some_and(coded)))
        || o.concepts
            .first()
            .and_then(|c| c.text.as_deref())
            .is_some_and(|t| genes.match_text(t).is_some())
}

/// What a variant finding needs of its Observation besides its code and components.
struct Read<'i> {
    record: &'i PatientRecord,
    when: Option<When>,
    value: Option<&'i ObsValue>,
    interpretation: &'i [Concept],
}

fn variant(
    o: &SourceItem,
    read: &Read,
    components: &[Component],
    genes: &Compiled,
) -> Option<Item> {
    let mut gene = None;
    let mut significance: Option<Vec<String>> = None;
    let mut vaf = None;
    for c in components {
        if has_code(&c.code, LOINC, GENE_STUDIED) {
            let hit = match &c.value {
                Some(ObsValue::Concept(v)) => genes
                    .match_concept(v)
                    .map(|_| concept_text(v).first().map(|s| s.to_string())),
                Some(ObsValue::Text(t)) => genes.match_text(t).map(|_| Some(t.clone())),
                _ => None,
            };
            if let Some(name) = hit {
                gene = Some(name.unwrap_or_else(|| "gene".to_owned()));
            }
        } else if has_code(&c.code, LOINC, SIGNIFICANCE) {
            significance = Some(match &c.value {
                Some(ObsValue::Concept(v)) => {
                    concept_text(v).iter().flat_map(|t| words(t)).collect()
                }
                Some(ObsValue::Text(t)) => words(t),
                _ => Vec::new(),
            });
        } else if has_code(&c.code, LOINC, ALLELE_FREQUENCY) {
            if let Some(ObsValue::Quantity(q)) = &c.value {
                vaf = Some(match q.unit.as_deref() {
                    Some("%") => q.value,
                    Some("1") | None if q.value <= 1.0 => q.value * 100.0,
                    _ => q.value,
                });
            }
        }
    }
    let code = o
        .concepts
        .first()
        .map(|c| Concept::clone(c))
        .unwrap_or_default();
    if gene.is_none() {
        if let Some(text) = &code.text {
            if genes.match_text(text).is_some() {
                gene = Some(text.clone());
            }
        }
    }
    let gene = gene?;
    let pathogenic = match significance {
        Some(w) => w.iter().any(|w| w == "pathogenic") && !w.iter().any(|w| w == "benign"),
        None => {
            let mut texts: Vec<String> = read
                .interpretation
                .iter()
                .flat_map(|c| concept_text(c))
                .map(str::to_owned)
                .collect();
            match read.value {
                Some(ObsValue::Concept(c)) => {
                    texts.extend(concept_text(c).into_iter().map(str::to_owned))
                }
                Some(ObsValue::Text(t)) => texts.push(t.clone()),
                _ => {}
            }
            texts.iter().any(|t| {
                let w = words(t);
                (w.contains(&"detected".to_owned()) || w.contains(&"positive".to_owned()))
                    && !w.contains(&"not".to_owned())
                    && !w.contains(&"negative".to_owned())
            })
        }
    };
    if !pathogenic {
        return None;
    }
    Some(Item {
        reference: o.reference(read.record),
        when: read.when,
        value: vaf,
        unit: vaf.map(|_| "%".to_owned()),
        shown: vaf.map(|v| format!("{} %", units::fmt_num(v))),
        concept: Some(code),
        gene: Some(gene),
        vaf,
        json: Some(o.json),
    })
}
