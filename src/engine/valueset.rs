//! Value sets (`cds-hooks/valuesets/*.yaml`) and the cohort definition (`cds-hooks/cohort.yaml`),
//! and their compiled, fast-matching form.
//!
//! Matching: a coding matches an exact (system, code) entry, or a prefix entry of the same
//! system (`L01A` matches ATC `L01AA09`); a concept's `text` or a coding's `display` matches a
//! text entry when the entry's words occur in it as whole words, case-insensitively, and no
//! `exclude_text` entry does. Systems are compared after trimming a trailing `/`.

use std::collections::{BTreeMap, HashSet};

use fhir_r4::{Coding, Concept};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// One value set file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSet {
    /// Id used by rules.
    pub id: String,
    /// Title.
    pub title: String,
    /// Purpose, provenance, and which entries are unverified.
    pub description: String,
    /// Exact codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<CodeEntry>,
    /// Code prefixes (code classes such as ATC L01A or ICD-10-CM D89.83).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<CodeEntry>,
    /// Case-insensitive whole-word text matches on `text` / `display`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text: Vec<TextEntry>,
    /// Text that vetoes a match (e.g. "not detected").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_text: Vec<String>,
    /// Other value sets whose entries this one also has (their union), so that a group and
    /// its parts are written once: `cart-indications` includes `indication-lbcl`….
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
}

/// `id` with the entries of every value set it includes, transitively; `Err` names an
/// unknown or cyclic inclusion.
pub fn expanded(all: &BTreeMap<String, ValueSet>, id: &str) -> Result<ValueSet, String> {
    fn add(
        all: &BTreeMap<String, ValueSet>,
        id: &str,
        path: &mut Vec<String>,
        out: &mut ValueSet,
    ) -> Result<(), String> {
        if path.iter().any(|p| p == id) {
            return Err(format!(
                "value sets include each other: {} -> {id}",
                path.join(" -> ")
            ));
        }
        let vs = all
            .get(id)
            .ok_or_else(|| format!("includes unknown value set `{id}`"))?;
        if !path.is_empty() {
            out.codes.extend(vs.codes.iter().cloned());
            out.prefixes.extend(vs.prefixes.iter().cloned());
            out.text.extend(vs.text.iter().cloned());
            out.exclude_text.extend(vs.exclude_text.iter().cloned());
        }
        path.push(id.to_owned());
        for inner in &vs.include {
            add(all, inner, path, out)?;
        }
        path.pop();
        Ok(())
    }
    let mut out = all
        .get(id)
        .ok_or_else(|| format!("no value set `{id}`"))?
        .clone();
    add(all, id, &mut Vec::new(), &mut out)?;
    out.include.clear();
    Ok(out)
}

/// A code or code prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeEntry {
    /// Code system URI.
    pub system: String,
    /// Code (or prefix).
    pub code: String,
    /// Display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// `V`, `V2`, `M` (see clinical-evidence.md), or `local` for a site's own code.
    pub status: String,
    /// Product id from the cohort file, for product value sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
}

/// A text match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextEntry {
    /// The words to find.
    #[serde(rename = "match")]
    pub pattern: String,
    /// Product id from the cohort file, for product value sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
}

/// `cds-hooks/cohort.yaml`: who is a CAR-T recipient and which product they received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortDef {
    /// Products by id.
    pub products: BTreeMap<String, Product>,
    /// Value set of product codes and names (MedicationAdministration/Statement/Request).
    pub product_valueset: String,
    /// Value set of infusion procedure codes.
    pub infusion_valueset: String,
    /// Administrations closer than this many days form one course.
    pub course_gap_days: i64,
    /// The source (`sources.yaml`) whose items matching `product_valueset` are administrations.
    #[serde(default = "default_product_source")]
    pub product_source: String,
    /// The source whose items matching `infusion_valueset` are infusions.
    #[serde(default = "default_infusion_source")]
    pub infusion_source: String,
}

fn default_product_source() -> String {
    "administered".to_owned()
}

fn default_infusion_source() -> String {
    "procedures".to_owned()
}

/// A CAR-T product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// International non-proprietary name.
    pub name: String,
    /// Brand name(s), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// `CD19` or `BCMA`.
    pub target: String,
    /// This product's course gap, when its label spaces doses further apart than
    /// `course_gap_days` (obe-cel's split dose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_gap_days: Option<i64>,
}

impl Product {
    /// "Yescarta (axicabtagene ciloleucel)" or the name alone.
    pub fn label(&self) -> String {
        match &self.brand {
            Some(b) => format!("{b} ({})", self.name),
            None => self.name.clone(),
        }
    }
}

/// A value set compiled for matching.
#[derive(Debug, Clone, Default)]
pub struct Compiled {
    /// system → code → product tag; looked up with borrowed strings (no allocation per coding).
    exact: FxHashMap<String, FxHashMap<String, Option<String>>>,
    prefixes: Vec<(String, String, Option<String>)>,
    text: Vec<(Vec<String>, Option<String>)>,
    exclude: Vec<Vec<String>>,
}

/// Result of a match: matched, with the product tag of the entry if any.
pub type Match = Option<Option<String>>;

fn norm_system(s: &str) -> &str {
    s.trim_end_matches('/')
}

/// Lower-cased alphanumeric words.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn contains_words(hay: &[String], needle: &[String]) -> bool {
    // Lengths and first bytes first: most words differ there, and this runs for every text
    // entry of every value set against every text of a record.
    let same = |a: &String, b: &String| {
        a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
    };
    !needle.is_empty()
        && hay
            .windows(needle.len())
            .any(|w| w.iter().zip(needle).all(|(a, b)| same(a, b)))
}

impl Compiled {
    /// Compiles a value set.
    pub fn new(vs: &ValueSet) -> Compiled {
        let mut c = Compiled::default();
        for e in &vs.codes {
            c.exact
                .entry(norm_system(&e.system).to_owned())
                .or_default()
                .insert(e.code.clone(), e.product.clone());
        }
        for e in &vs.prefixes {
            c.prefixes.push((
                norm_system(&e.system).to_owned(),
                e.code.clone(),
                e.product.clone(),
            ));
        }
        for t in &vs.text {
            c.text.push((words(&t.pattern), t.product.clone()));
        }
        c.exclude = vs.exclude_text.iter().map(|t| words(t)).collect();
        c
    }

    /// Matches one coding by code.
    pub fn match_coding(&self, coding: &Coding) -> Match {
        let (Some(system), Some(code)) = (&coding.system, &coding.code) else {
            return None;
        };
        let system = norm_system(system);
        if let Some(tag) = self.exact.get(system).and_then(|codes| codes.get(code)) {
            return Some(tag.clone());
        }
        self.prefixes
            .iter()
            .find(|(s, p, _)| s == system && code.starts_with(p.as_str()))
            .map(|(_, _, tag)| tag.clone())
    }

    /// Matches free text.
    pub fn match_text(&self, text: &str) -> Match {
        if self.text.is_empty() {
            return None;
        }
        self.match_words(&words(text))
    }

    /// [`match_text`](Self::match_text), with the [`words`] of the text given by `words_of`
    /// (see [`match_concept_with`](Self::match_concept_with)).
    pub fn match_text_with<W: AsRef<[String]>>(
        &self,
        text: &str,
        words_of: impl FnOnce(&str) -> W,
    ) -> Match {
        if self.text.is_empty() {
            return None;
        }
        self.match_words(words_of(text).as_ref())
    }

    /// Matches free text already split into [`words`].
    fn match_words(&self, hay: &[String]) -> Match {
        if self.exclude.iter().any(|x| contains_words(hay, x)) {
            return None;
        }
        self.text
            .iter()
            .find(|(w, _)| contains_words(hay, w))
            .map(|(_, tag)| tag.clone())
    }

    /// Matches a concept: any coding by code, then its text and displays.
    pub fn match_concept(&self, concept: &Concept) -> Match {
        self.match_concept_with(concept, words)
    }

    /// [`match_concept`](Self::match_concept), with the [`words`] of a text given by
    /// `words_of`: a caller matching many value sets against the same record splits each text
    /// once.
    pub fn match_concept_with<W: AsRef<[String]>>(
        &self,
        concept: &Concept,
        mut words_of: impl FnMut(&str) -> W,
    ) -> Match {
        if let Some(m) = concept.codings.iter().find_map(|c| self.match_coding(c)) {
            return Some(m);
        }
        if self.text.is_empty() {
            return None;
        }
        let texts = concept
            .text
            .iter()
            .chain(concept.codings.iter().filter_map(|c| c.display.as_ref()));
        for t in texts {
            if let Some(m) = self.match_words(words_of(t).as_ref()) {
                return Some(m);
            }
        }
        None
    }

    /// True when the value set has no entry at all (an empty site value set never matches).
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty() && self.text.is_empty()
    }
}

/// Ids of the value sets a set of names refers to that do not exist.
pub fn missing<'a>(names: impl Iterator<Item = &'a str>, known: &HashSet<&str>) -> Vec<String> {
    names
        .filter(|n| !known.contains(n))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
#[path = "valueset_tests.rs"]
mod tests;
