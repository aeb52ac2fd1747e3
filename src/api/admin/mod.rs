//! `/admin`: the authenticated, versioned, audited rule administration API.
//!
//! Every request needs a bearer token with the scope of the operation (`rules:read`,
//! `rules:write`, `audit:read`; `worklist:read` and `worklist:write` for population runs and
//! the worklist); writes are validated as a whole pack before anything changes,
//! committed as a new version with an audit entry, and guarded by `If-Match` (a rule's or value
//! set's `ETag`). A change takes effect for the next hook call.

pub(in crate::api) mod openapi;
mod population;
mod review;
mod routes;
mod rules;
mod sources;
mod valuesets;
mod versions;

use futures::future::LocalBoxFuture;

use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::ApiError;
use crate::admin::keys::{AdminAuth, Principal, TokenError};
use crate::admin::{AdminError, ChangeMeta};

pub use openapi::document;
pub use routes::Routes;

/// Every admin route, each with its documentation (the worklist's are added by `api`).
pub fn routes() -> Routes {
    let mut routes = Routes::default();
    rules::register(&mut routes);
    valuesets::register(&mut routes);
    sources::register(&mut routes);
    versions::register(&mut routes);
    review::register(&mut routes);
    population::register(&mut routes);
    routes
}

/// Serves `routes` and the OpenAPI document of them.
pub(super) fn configure(cfg: &mut web::ServiceConfig, routes: Routes) {
    let doc = openapi::AdminDocument(openapi::document(routes.paths()));
    for service in routes.into_services() {
        cfg.service(service);
    }
    cfg.app_data(web::Data::new(doc))
        .service(web::resource("/admin/openapi.json").route(web::get().to(openapi::get_openapi)));
}

/// The authenticated caller of an admin endpoint.
pub struct AdminUser(pub Principal);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = req
            .headers()
            .get("Authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        let auth = req.app_data::<web::Data<AdminAuth>>().cloned();
        Box::pin(async move {
            let (Some(token), Some(auth)) = (token, auth) else {
                return Err(ApiError::Unauthorized);
            };
            auth.verify(&token).await.map(AdminUser).map_err(|e| {
                tracing::debug!(reason = %e, "admin token refused");
                match e {
                    TokenError::KeysUnavailable => ApiError::Unavailable,
                    _ => ApiError::Unauthorized,
                }
            })
        })
    }
}

impl AdminUser {
    /// Fails with 403 unless the token grants `scope`.
    pub fn require(&self, scope: &str) -> Result<&str, ApiError> {
        if self.0.scopes.contains(scope) {
            Ok(&self.0.subject)
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(problems) => {
                // One issue per problem, its path as the expression and its file in the text,
                // then why nothing changed.
                let mut issues: Vec<Value> = problems
                    .iter()
                    .map(|p| {
                        json!({"severity": "error", "code": "invalid",
                            "diagnostics": format!("{}: {}", p.file, p.message),
                            "expression": [p.path]})
                    })
                    .collect();
                issues.push(json!({"severity": "information", "code": "informational",
                    "diagnostics": "the change was refused; the active rules are unchanged"}));
                ApiError::Unprocessable(
                    json!({"resourceType": "OperationOutcome", "issue": issues}),
                )
            }
            AdminError::Stale { current } => ApiError::Precondition(format!(
                "stale: the pack changed (now version {current}); reload and retry"
            )),
            AdminError::Modified(m) => ApiError::Precondition(m),
            AdminError::NotFound(m) => ApiError::NotFound(m),
            AdminError::Exists(m) => ApiError::Conflict(m),
            AdminError::Store(e) => e.into(),
        }
    }
}

/// Audit metadata of a change: who, what, which rule, and the optional `X-Change-Reason`.
pub(crate) fn meta<'a>(
    req: &HttpRequest,
    actor: &'a str,
    action: &'a str,
    rule_id: Option<&'a str>,
) -> ChangeMeta<'a> {
    ChangeMeta {
        actor,
        action,
        rule_id,
        reason: change_reason(req),
    }
}

/// The `X-Change-Reason` header's first 1,000 characters.
pub(crate) fn change_reason(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get("X-Change-Reason")
        .and_then(|h| h.to_str().ok())
        .map(|s| s.chars().take(1000).collect())
}

/// `If-Match` check against the current ETag (absent header: no check; `*`: anything).
pub(crate) fn check_if_match(req: &HttpRequest, current: &str) -> Result<(), AdminError> {
    match req.headers().get("If-Match").and_then(|h| h.to_str().ok()) {
        None => Ok(()),
        Some(v)
            if v.trim() == "*"
                || v.split(',')
                    .any(|t| t.trim().trim_start_matches("W/") == current) =>
        {
            Ok(())
        }
        Some(_) => Err(AdminError::Modified(format!(
            "If-Match does not match the current ETag {current}: reload and retry"
        ))),
    }
}

/// Parses an admin request body: YAML when the content type says so, else JSON; errors carry
/// the path of the problem.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    file: &str,
    body: &[u8],
) -> Result<T, ApiError> {
    let yaml = req
        .headers()
        .get("Content-Type")
        .and_then(|h| h.to_str().ok())
        .is_some_and(|c| c.contains("yaml"));
    let parsed = if yaml {
        crate::engine::load::parse(file, body)
    } else {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::BadRequest(crate::cds::RequestError::new(
                "",
                format!("body is not valid JSON: {e}"),
            ))
        })?;
        crate::engine::load::from_json(file, value)
    };
    parsed.map_err(|p| AdminError::Invalid(vec![p]).into())
}

/// A JSON body with its `ETag` header.
pub(crate) fn tagged(body: serde_json::Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("ETag", crate::admin::etag(&body)))
        .json(body)
}

/// The entry `id` of one of the pack's maps with its `ETag`, or 404 naming `what`.
pub(crate) fn get_entry<T: serde::Serialize>(
    admin: &crate::admin::Admin,
    id: &str,
    what: &str,
    entries: Entries<T>,
) -> Result<HttpResponse, ApiError> {
    let (pack, _) = admin.active.get();
    let entry = (entries.get)(pack.pack())
        .get(id)
        .ok_or_else(|| ApiError::NotFound(format!("no {what} `{id}`")))?;
    Ok(tagged(
        serde_json::to_value(entry).unwrap_or(serde_json::Value::Null),
    ))
}

/// The entry `id` as committed in pack `version`, under `key`, with its `ETag`: the answer
/// to a change of a value set or source.
pub(crate) fn committed_entry<T: serde::Serialize>(
    admin: &crate::admin::Admin,
    (key, id): (&str, &str),
    version: i64,
    entries: Entries<T>,
) -> HttpResponse {
    let (pack, _) = admin.active.get();
    let view = (entries.get)(pack.pack())
        .get(id)
        .and_then(|e| serde_json::to_value(e).ok())
        .unwrap_or(serde_json::Value::Null);
    HttpResponse::Ok()
        .insert_header(("ETag", crate::admin::etag(&view)))
        .json(serde_json::json!({"packVersion": version, key: view}))
}

/// One of the pack's maps of named entries (value sets, sources), for [`put_entry`].
pub(crate) struct Entries<T> {
    pub get: fn(&crate::engine::Pack) -> &std::collections::BTreeMap<String, T>,
    pub get_mut: fn(&mut crate::engine::Pack) -> &mut std::collections::BTreeMap<String, T>,
}

/// Creates or replaces the entry `id` of one of the pack's maps, with If-Match against its
/// current `ETag` when it exists; validated with the whole pack and audited as `action`.
/// Gives the committed pack version.
pub(crate) async fn put_entry<T: serde::Serialize>(
    req: &HttpRequest,
    actor: &str,
    admin: &crate::admin::Admin,
    (action, id): (&str, &str),
    entry: T,
    entries: Entries<T>,
) -> Result<i64, ApiError> {
    let json = |t: &T| serde_json::to_value(t).unwrap_or(serde_json::Value::Null);
    let committed = admin
        .change(
            meta(req, actor, action, None),
            |p| {
                let current = (entries.get)(p).get(id).map(json);
                check_if_match(
                    req,
                    &current.as_ref().map(crate::admin::etag).unwrap_or_default(),
                )?;
                (entries.get_mut)(p).insert(id.to_owned(), entry);
                Ok(())
            },
            |p: &crate::engine::Pack| (entries.get)(p).get(id).map(json),
        )
        .await?;
    Ok(committed.version)
}
