//! Checking `sources.yaml`: resource type names, prefetch templates, the draft-order source an
//! `ordering` names, and the value sets and variables each FHIRPath reads.

use crate::engine::source::Sources;

/// The problems of a pack's sources, each with its path in `sources.yaml`.
pub(super) fn problems(
    sources: &Sources,
    valuesets: &dyn Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, def) in sources {
        if def.resources.is_empty() {
            out.push((
                format!("{name}.resources"),
                "names no resource type".to_owned(),
            ));
        }
        for (i, r) in def.resources.iter().enumerate() {
            let type_name = r.starts_with(|c: char| c.is_ascii_uppercase())
                && r.chars().all(|c| c.is_ascii_alphanumeric());
            if !type_name {
                out.push((
                    format!("{name}.resources[{i}]"),
                    format!("`{r}` is not a resource type"),
                ));
            }
        }
        for (key, template) in &def.prefetch {
            let checked = template.replace("{{codes}}", "http://loinc.org|1-8");
            if let Err(e) = crate::cds::prefetch::validate_template(&checked, "patient-view") {
                out.push((format!("{name}.prefetch.{key}"), e));
            }
        }
        if let Some(o) = &def.ordering {
            if !sources.get(o).is_some_and(|d| d.draft_orders) {
                out.push((
                    format!("{name}.ordering"),
                    format!("`{o}` is not a source of draft orders"),
                ));
            }
        }
        let paths = [
            ("code", Some(&def.code)),
            ("date", def.date.as_ref()),
            ("value", def.value.as_ref()),
            ("interpretation", def.interpretation.as_ref()),
            ("filter", def.filter.as_ref()),
            ("active", def.active.as_ref()),
            ("history", def.history.as_ref()),
        ];
        for (field, path) in paths {
            let Some(path) = path else { continue };
            for (id, column) in path.expr().value_sets() {
                if !valuesets(id) {
                    let message = format!("column {column}: memberOf: unknown value set `{id}`");
                    out.push((format!("{name}.{field}"), message));
                }
            }
            for (var, column) in path.expr().variables() {
                // Sources are read for the cohort, before day 0 is known, and shared with
                // the rules: they read only the language's own variables.
                if !crate::engine::path::known_variable(var) || var == "day0" {
                    out.push((
                        format!("{name}.{field}"),
                        format!("column {column}: unknown variable %{var} (a source reads no rule or cohort variable)"),
                    ));
                }
            }
        }
    }
    out
}
