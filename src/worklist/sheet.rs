//! The worklist as a table: tab-separated for people at a terminal, CSV for spreadsheets,
//! with the same columns from the command line and the API.

use std::io::Write;

use crate::storage::PopulationFinding;

const COLUMNS: [&str; 20] = [
    "patient",
    "name",
    "rule",
    "indicator",
    "summary",
    "product",
    "prevention",
    "due_on",
    "day0",
    "first_seen_run",
    "first_seen_at",
    "last_seen_run",
    "closed_by_run",
    "closed_at",
    "id",
    "latest_action",
    "action_reason",
    "action_until",
    "action_by",
    "action_at",
];

/// A table of findings being written.
pub struct Sheet<W: Write> {
    out: csv::Writer<W>,
    csv: bool,
}

impl<W: Write> Sheet<W> {
    /// Starts a table on `w` with its header: CSV when `csv`, else tab-separated.
    ///
    /// # Errors
    ///
    /// Writing to `w`.
    pub fn new(w: W, csv: bool) -> Result<Self, csv::Error> {
        let mut out = csv::WriterBuilder::new()
            .delimiter(if csv { b',' } else { b'\t' })
            .from_writer(w);
        out.write_record(COLUMNS)?;
        Ok(Sheet { out, csv })
    }

    /// Adds one finding.
    ///
    /// # Errors
    ///
    /// Writing to the underlying writer.
    pub fn add(&mut self, f: &PopulationFinding) -> Result<(), csv::Error> {
        let csv = self.csv;
        self.out.write_record(
            row(f)
                .iter()
                .map(|v| if csv { defuse(v) } else { v.clone() }),
        )
    }

    /// Flushes the table and gives back the writer.
    ///
    /// # Errors
    ///
    /// Flushing the underlying writer.
    pub fn finish(self) -> Result<W, csv::Error> {
        self.out
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

fn row(f: &PopulationFinding) -> [String; 20] {
    let opt = |v: Option<String>| v.unwrap_or_default();
    let action = f.latest_action.as_ref();
    [
        f.patient.clone(),
        opt(f.display_name.clone()),
        f.rule_id.clone(),
        f.indicator.as_str().to_owned(),
        f.summary.clone(),
        opt(f.facets.product.clone()),
        opt(f.facets.prevention.map(|p| p.as_str().to_owned())),
        opt(f.facets.due_on.map(|d| d.to_string())),
        opt(f.facets.day0.map(|d| d.to_string())),
        f.first_seen_run.to_string(),
        f.first_seen_at.to_rfc3339(),
        f.last_seen_run.to_string(),
        opt(f.closed_by_run.map(|r| r.to_string())),
        opt(f.closed_at.map(|t| t.to_rfc3339())),
        f.id.to_string(),
        opt(action.map(|a| a.action.as_str().to_owned())),
        opt(action.map(|a| a.reason.clone())),
        opt(action.and_then(|a| a.until).map(|t| t.to_rfc3339())),
        opt(action.map(|a| a.actor.clone())),
        opt(action.map(|a| a.at.to_rfc3339())),
    ]
}

/// A cell a spreadsheet would run as a formula (a name in an export is untrusted) gets a
/// leading apostrophe, which spreadsheets show as text.
fn defuse(v: &str) -> String {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::defuse;

    #[test]
    fn a_cell_that_looks_like_a_formula_is_kept_as_text() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("Toni Fixture"), "Toni Fixture");
    }
}
