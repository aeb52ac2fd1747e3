//! What a query found, as conditions, windows, a rule's FHIRPath and card text read it: the
//! value of a `latest` or `previous` binding.

use fhir_r4::Concept;

use super::source::Json;
use crate::record::When;

/// One thing a query found.
#[derive(Debug, Clone, Default)]
pub(super) struct Item {
    /// `Type/id`.
    pub reference: String,
    /// When it happened.
    pub when: Option<When>,
    /// Numeric value, in `unit`.
    pub value: Option<f64>,
    /// Unit of `value`.
    pub unit: Option<String>,
    /// The value as recorded, for people.
    pub shown: Option<String>,
    /// The code (or medication) of the item.
    pub concept: Option<Concept>,
    /// Variants: the gene.
    pub gene: Option<String>,
    /// Variants: allele frequency in percent.
    pub vaf: Option<f64>,
    /// Where the resource is, for FHIRPath that reads it.
    pub json: Option<Json>,
}
