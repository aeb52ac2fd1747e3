//! Reading a pack from a directory (`cohort.yaml`, `sources.yaml`, `valuesets/*.yaml`,
//! `rules/*.yaml`) or from one document; every parse error is reported with its file and path.
//! A stored pack without `sources` reads the ones shipped with the service ([`shipped_sources`]).

use std::collections::BTreeMap;
use std::path::Path;

use serde::de::DeserializeOwned;

use super::problem::Problem;
use super::source::Sources;
use super::{CompiledPack, Pack};

/// Parses one YAML (or JSON) document into `T`, reporting the path of the first error.
pub fn parse<T: DeserializeOwned>(file: &str, bytes: &[u8]) -> Result<T, Problem> {
    let problem = |path: String, message: String| Problem {
        file: file.to_owned(),
        path,
        message,
    };
    let yaml: serde_yaml::Value =
        serde_yaml::from_slice(bytes).map_err(|e| problem("(document)".into(), e.to_string()))?;
    let json =
        serde_json::to_value(&yaml).map_err(|e| problem("(document)".into(), e.to_string()))?;
    from_json(file, json)
}

/// Deserialises `T` from JSON, reporting the path of the first error.
pub fn from_json<T: DeserializeOwned>(file: &str, json: serde_json::Value) -> Result<T, Problem> {
    serde_path_to_error::deserialize(json).map_err(|e| {
        let path = e.path().to_string();
        Problem {
            file: file.to_owned(),
            path: if path == "." {
                "(document)".into()
            } else {
                path
            },
            message: e.into_inner().to_string(),
        }
    })
}

/// The sources shipped with the service: what a stored pack without `sources` reads.
pub fn shipped_sources() -> Sources {
    parse(
        "sources.yaml",
        include_bytes!("../../cds-hooks/sources.yaml"),
    )
    .expect("the shipped sources.yaml parses (tested)")
}

fn yaml_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            )
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Reads a pack directory; problems from every file are collected, not just the first.
pub fn load_dir(dir: &Path) -> Result<Pack, Vec<Problem>> {
    match load_dir_partial(dir) {
        (Some(pack), problems) if problems.is_empty() => Ok(pack),
        (_, problems) => Err(problems),
    }
}

/// Reads what parses, and lists what does not: the pack (without the files that failed) and
/// every parse problem. `None` when the cohort file itself is unusable.
fn load_dir_partial(dir: &Path) -> (Option<Pack>, Vec<Problem>) {
    let mut problems = Vec::new();
    let io = |file: &str, message: String| Problem {
        file: file.to_owned(),
        path: "(file)".into(),
        message,
    };
    let cohort = std::fs::read(dir.join("cohort.yaml"))
        .map_err(|e| io("cohort.yaml", e.to_string()))
        .and_then(|b| parse("cohort.yaml", &b));
    let mut sections: [(&str, BTreeMap<String, Vec<u8>>); 2] =
        [("valuesets", BTreeMap::new()), ("rules", BTreeMap::new())];
    for (sub, files) in sections.iter_mut() {
        match yaml_files(&dir.join(*sub)) {
            Ok(paths) => {
                for p in paths {
                    let stem = p
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or_default()
                        .to_owned();
                    match std::fs::read(&p) {
                        Ok(b) => {
                            files.insert(stem, b);
                        }
                        Err(e) => problems.push(io(&format!("{sub}/{stem}"), e.to_string())),
                    }
                }
            }
            Err(e) => problems.push(io(sub, e)),
        }
    }
    let [(_, vs_files), (_, rule_files)] = sections;
    let mut valuesets = BTreeMap::new();
    for (stem, bytes) in vs_files {
        match parse(&format!("valuesets/{stem}.yaml"), &bytes) {
            Ok(v) => {
                valuesets.insert(stem, v);
            }
            Err(p) => problems.push(p),
        }
    }
    let mut rules = BTreeMap::new();
    for (stem, bytes) in rule_files {
        match parse(&format!("rules/{stem}.yaml"), &bytes) {
            Ok(r) => {
                rules.insert(stem, r);
            }
            Err(p) => problems.push(p),
        }
    }
    let sources = std::fs::read(dir.join("sources.yaml"))
        .map_err(|e| io("sources.yaml", e.to_string()))
        .and_then(|b| parse("sources.yaml", &b));
    // When sources.yaml does not parse, the rules are still checked, against the shipped
    // sources, so that its problem is not reported again as every query's unknown source.
    let sources = sources.unwrap_or_else(|p| {
        problems.push(p);
        shipped_sources()
    });
    match cohort {
        Ok(cohort) => (
            Some(Pack {
                cohort,
                valuesets,
                rules,
                sources,
            }),
            problems,
        ),
        Err(p) => {
            problems.insert(0, p);
            (None, problems)
        }
    }
}

/// Reads and compiles a pack directory. When some files do not parse, the others are still
/// validated, so that one run lists every problem (references to the unparsed files are not
/// reported twice).
pub fn compile_dir(dir: &Path) -> Result<CompiledPack, Vec<Problem>> {
    let (pack, mut problems) = load_dir_partial(dir);
    let Some(pack) = pack else {
        return Err(problems);
    };
    if problems.is_empty() {
        return super::compile(pack);
    }
    let unparsed: Vec<String> = problems
        .iter()
        .filter_map(|p| {
            p.file
                .rsplit('/')
                .next()?
                .strip_suffix(".yaml")
                .map(|s| format!("`{s}`"))
        })
        .collect();
    if let Err(more) = super::compile(pack) {
        problems.extend(
            more.into_iter()
                .filter(|p| !unparsed.iter().any(|u| p.message.contains(u.as_str()))),
        );
    }
    Err(problems)
}

/// Reads a stored pack document (JSON).
pub fn pack_from_json(doc: &serde_json::Value) -> Result<Pack, Problem> {
    from_json("(stored pack)", doc.clone())
}

/// The stored form of a pack.
pub fn pack_to_json(pack: &Pack) -> serde_json::Value {
    serde_json::to_value(pack).unwrap_or(serde_json::Value::Null)
}
