//! The FHIR R4 data types a choice element (`value[x]`) may take, as their JSON names write
//! them: the open-type list of the specification's data types page. A member named by an
//! element's name and one of these is that element; any other member that starts with the name
//! (`dosageInstruction` for `dosage`) is not.

/// Whether `suffix` is one of the types.
pub(crate) fn is_type(suffix: &str) -> bool {
    TYPES.contains(&suffix)
}

#[rustfmt::skip]
const TYPES: [&str; 50] = [
    "Base64Binary", "Boolean", "Canonical", "Code", "Date", "DateTime", "Decimal", "Id",
    "Instant", "Integer", "Markdown", "Oid", "PositiveInt", "String", "Time", "UnsignedInt",
    "Uri", "Url", "Uuid", "Address", "Age", "Annotation", "Attachment", "CodeableConcept",
    "Coding", "ContactPoint", "Count", "Distance", "Duration", "HumanName", "Identifier",
    "Money", "Period", "Quantity", "Range", "Ratio", "Reference", "SampledData", "Signature",
    "Timing", "ContactDetail", "Contributor", "DataRequirement", "Expression",
    "ParameterDefinition", "RelatedArtifact", "TriggerDefinition", "UsageContext", "Dosage",
    "Meta",
];
