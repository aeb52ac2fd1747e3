//! The record behind a timeline: what a `patient-view` call for the patient would read, fetched
//! from the `[bulk]` FHIR server with the service's own SMART Backend Services token. The page
//! has no EHR token, so the request is made as if the EHR had sent that server as `fhirServer`
//! and no prefetch: the same prefetch templates (the service's and the active pack's), the same
//! fetch path ([`hook::build_record`]: `fhir.allowed_servers`, JSON depth and size limits, the
//! deadline, the page cap, `next` loops) and the same record checks. The only I/O of the
//! timeline module. Must not import `actix_web` or sqlx.

use secrecy::ExposeSecret;
use serde_json::{Map, Value};

use super::HOOK;
use crate::bulk::FhirAccess;
use crate::cds::discovery::ServiceDescriptor;
use crate::cds::request::{FhirAuthorization, HookContext, HookRequest};
use crate::engine::CompiledPack;
use crate::fhir::FhirClient;
use crate::hook::{self, FetchLimits, Source};
use crate::record::PatientRecord;

/// The `[bulk]` server the timeline reads records from, when one is configured (shared by the
/// page handlers; the access token it keeps serves every page).
pub struct RecordAccess(pub Option<FhirAccess>);

/// Where the record is read from.
#[derive(Clone, Copy)]
pub struct RecordSource<'a> {
    /// The `[bulk]` server and the service's credentials for it.
    pub access: &'a FhirAccess,
    /// The hook path's FHIR client (its allowlist is `fhir.allowed_servers`).
    pub client: &'a FhirClient,
    /// The hook path's deadline and page cap.
    pub limits: FetchLimits,
}

/// Why the record could not be read. The message names the step, never a URL, a token or
/// patient data.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// No access token could be obtained.
    #[error("no access token from the FHIR server's authorisation server: {0}")]
    Token(crate::bulk::BulkError),
    /// The fetch failed (the hook path's 412).
    #[error("{0}")]
    Unobtainable(String),
}

/// Reads `patient_id`'s record as a `patient-view` call of `service` would, with the active
/// pack's prefetch.
pub async fn read_record(
    pack: &CompiledPack,
    service: &ServiceDescriptor,
    patient_id: &str,
    source: RecordSource<'_>,
) -> Result<PatientRecord, RecordError> {
    let token = source.access.token().await.map_err(RecordError::Token)?;
    let mut context = Map::new();
    context.insert("patientId".into(), Value::String(patient_id.to_owned()));
    let mut req = HookRequest {
        hook: HOOK.to_owned(),
        hook_instance: uuid::Uuid::new_v4().to_string(),
        fhir_server: Some(source.access.base().to_string()),
        fhir_authorization: token.map(|t| FhirAuthorization {
            access_token: t.expose_secret().to_owned(),
            token_type: "Bearer".into(),
            expires_in: 0,
            scope: String::new(),
            subject: String::new(),
            patient: None,
        }),
        context: HookContext::new(context),
        prefetch: None,
        extension: None,
    };
    let service = service.with_prefetch(pack.prefetch(HOOK));
    let online = Source::Online {
        client: source.client,
        client_servers: None,
        limits: source.limits,
    };
    match hook::build_record(&service, &mut req, online).await {
        Ok(built) => Ok(built.record),
        Err(e) => {
            // A refused token is the likeliest cause a new one would cure; it costs one token
            // request on the next read.
            source.access.forget_token().await;
            Err(RecordError::Unobtainable(e.message))
        }
    }
}
