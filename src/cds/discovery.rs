//! CDS Hooks 2.0 discovery (`GET {base}/cds-services`, spec §Discovery): the service descriptor
//! wire types and [`load_services`], which reads and checks the descriptor files in
//! `cds-hooks/services/`. Reading that directory is the only I/O in the `cds` layer; this module
//! must not import actix-web, `SQLx` or reqwest.

use super::prefetch::validate_template;
use super::request::KNOWN_HOOKS;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The members a descriptor file may have; anything else is most likely a typo.
const DESCRIPTOR_MEMBERS: &[&str] = &[
    "hook",
    "title",
    "description",
    "id",
    "prefetch",
    "usageRequirements",
];

/// The discovery response body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryResponse {
    /// The services offered; `[]` when there are none.
    #[serde(default)]
    pub services: Vec<ServiceDescriptor>,
}

/// One CDS Service entry. The same `id` may appear once per hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDescriptor {
    /// The hook this service is invoked on.
    pub hook: String,
    /// Human-friendly name (RECOMMENDED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the service does, for the clinician.
    pub description: String,
    /// URL segment: the service is called at `{base}/cds-services/{id}`.
    pub id: String,
    /// Prefetch key → relative FHIR query template with 2.0 tokens; omitted when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prefetch: BTreeMap<String, String>,
    /// Human-readable preconditions for using the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_requirements: Option<String>,
}

impl ServiceDescriptor {
    /// The descriptor with `derived` prefetch templates added (the active pack's, see
    /// `CompiledPack::prefetch`); a key the descriptor file names itself keeps its template.
    pub fn with_prefetch(&self, derived: &BTreeMap<String, String>) -> ServiceDescriptor {
        let mut out = self.clone();
        for (key, template) in derived {
            out.prefetch
                .entry(key.clone())
                .or_insert_with(|| template.clone());
        }
        out
    }
}

impl DiscoveryResponse {
    /// The descriptor registered for `id` and `hook`, if any.
    pub fn find(&self, id: &str, hook: &str) -> Option<&ServiceDescriptor> {
        self.services.iter().find(|s| s.id == id && s.hook == hook)
    }
}

/// Reads every `*.json` file of `dir` (in file-name order) as a [`ServiceDescriptor`] and
/// checks it: known hook, non-empty `description` and URL-safe `id`, no unknown member, no
/// duplicate (`id`, `hook`), and prefetch templates that use only the hook's 2.0 tokens.
/// Errors name the file and the member (`cart-monitoring.json: prefetch.patient: …`).
pub fn load_services(dir: &Path) -> Result<Vec<ServiceDescriptor>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read service directory {}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        if path.is_file() && path.extension().is_some_and(|x| x == "json") {
            paths.push(path);
        }
    }
    paths.sort();

    let mut services = Vec::new();
    let mut seen = BTreeSet::new();
    for path in paths {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let text = std::fs::read(&path).map_err(|e| format!("{name}: cannot read: {e}"))?;
        let service = parse_descriptor(&text).map_err(|e| format!("{name}: {e}"))?;
        if !seen.insert((service.id.clone(), service.hook.clone())) {
            return Err(format!(
                "{name}: id: \"{}\" is already registered for hook {}",
                service.id, service.hook
            ));
        }
        services.push(service);
    }
    Ok(services)
}

/// Parses and checks one descriptor; errors are `<member>: <message>`.
pub fn parse_descriptor(text: &[u8]) -> Result<ServiceDescriptor, String> {
    let value: Value = serde_json::from_slice(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    if let Some(unknown) = object
        .keys()
        .find(|k| !DESCRIPTOR_MEMBERS.contains(&k.as_str()))
    {
        return Err(format!("{unknown}: is not a service descriptor member"));
    }
    let service: ServiceDescriptor = serde_json::from_value(value).map_err(|e| e.to_string())?;

    if !KNOWN_HOOKS.contains(&service.hook.as_str()) {
        return Err(format!(
            "hook: \"{}\" is not one of {}",
            service.hook,
            KNOWN_HOOKS.join(", ")
        ));
    }
    if service.id.is_empty()
        || !service
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("id: must be non-empty and use only A-Z a-z 0-9 - _ .".to_owned());
    }
    if service.id.chars().all(|c| c == '.') {
        return Err("id: must not be a dot segment".to_owned());
    }
    let blank = |s: &Option<String>| s.as_deref().is_some_and(|s| s.trim().is_empty());
    if service.description.trim().is_empty() {
        return Err("description: must not be empty".to_owned());
    }
    if blank(&service.title) {
        return Err("title: must be omitted rather than empty".to_owned());
    }
    if blank(&service.usage_requirements) {
        return Err("usageRequirements: must be omitted rather than empty".to_owned());
    }
    for (key, template) in &service.prefetch {
        if key.is_empty() {
            return Err("prefetch: keys must not be empty".to_owned());
        }
        validate_template(template, &service.hook).map_err(|e| format!("prefetch.{key}: {e}"))?;
    }
    Ok(service)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn descriptor() -> Value {
        json!({"hook": "patient-view", "title": "T", "description": "D", "id": "svc",
               "prefetch": {"patient": "Patient/{{context.patientId}}"}})
    }

    fn err_of(edit: impl FnOnce(&mut Value)) -> String {
        let mut v = descriptor();
        edit(&mut v);
        parse_descriptor(v.to_string().as_bytes()).unwrap_err()
    }

    #[test]
    fn the_shipped_services_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cds-hooks/services");
        let services = load_services(&dir).unwrap();
        let ids: Vec<_> = services
            .iter()
            .map(|s| (s.id.as_str(), s.hook.as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("cart-discharge", "encounter-discharge"),
                ("cart-monitoring", "patient-view"),
                ("cart-order-safety-select", "order-select"),
                ("cart-order-safety-sign", "order-sign"),
            ]
        );
        // The record builder is shared, so every service asks for the same keys.
        let keys: Vec<Vec<&String>> = services
            .iter()
            .map(|s| s.prefetch.keys().collect())
            .collect();
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");
        for s in &services {
            assert!(
                s.description.contains("boxed warning") && s.description.contains("lifelong"),
                "{}",
                s.id
            );
            assert!(s.title.is_some() && s.usage_requirements.is_some());
        }
    }

    #[test]
    fn serialisation_omits_empty_members() {
        let mut s: ServiceDescriptor = serde_json::from_value(descriptor()).unwrap();
        s.title = None;
        s.prefetch.clear();
        let text = serde_json::to_string(&DiscoveryResponse { services: vec![s] }).unwrap();
        assert_eq!(
            text,
            r#"{"services":[{"hook":"patient-view","description":"D","id":"svc"}]}"#
        );
        assert_eq!(
            serde_json::to_string(&DiscoveryResponse::default()).unwrap(),
            r#"{"services":[]}"#
        );
    }

    #[test]
    fn bad_descriptors_name_the_member() {
        assert!(err_of(|v| v["hook"] = json!("patient-open")).starts_with("hook:"));
        assert!(err_of(|v| v["id"] = json!("a/b")).starts_with("id:"));
        assert!(err_of(|v| v["id"] = json!("")).starts_with("id:"));
        assert!(err_of(|v| v["id"] = json!("..")).starts_with("id:"));
        assert!(err_of(|v| v["description"] = json!(" ")).starts_with("description:"));
        assert!(err_of(|v| v["title"] = json!("")).starts_with("title:"));
        assert!(err_of(|v| v["usageRequirements"] = json!("")).starts_with("usageRequirements:"));
        assert!(err_of(|v| v["usageRequirement"] = json!("x")).starts_with("usageRequirement:"));
        assert!(
            err_of(|v| drop(v.as_object_mut().unwrap().remove("description")))
                .contains("description")
        );
        let err = err_of(|v| v["prefetch"]["meds"] = json!("MedicationRequest?date=ge{{today()}}"));
        assert!(err.starts_with("prefetch.meds:"), "{err}");
        let err = err_of(|v| v["prefetch"]["orders"] = json!("{{context.draftOrders}}"));
        assert!(err.starts_with("prefetch.orders:"), "{err}");
        assert!(parse_descriptor(b"[]")
            .unwrap_err()
            .contains("not a JSON object"));
    }

    #[test]
    fn load_rejects_duplicates_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let write =
            |name: &str, v: &Value| std::fs::write(dir.path().join(name), v.to_string()).unwrap();
        write("a.json", &descriptor());
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        assert_eq!(load_services(dir.path()).unwrap().len(), 1);
        let mut other_hook = descriptor();
        other_hook["hook"] = json!("order-sign");
        write("b.json", &other_hook);
        assert_eq!(
            load_services(dir.path()).unwrap().len(),
            2,
            "same id on another hook is allowed"
        );
        write("c.json", &descriptor());
        let err = load_services(dir.path()).unwrap_err();
        assert_eq!(
            err,
            "c.json: id: \"svc\" is already registered for hook patient-view"
        );
        write("c.json", &json!({"hook": "patient-view"}));
        assert!(load_services(dir.path())
            .unwrap_err()
            .starts_with("c.json: "));
        assert!(load_services(&dir.path().join("missing")).is_err());
    }
}
