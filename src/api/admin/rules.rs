//! `/admin/rules`: list, get, create, replace, patch parameters, change status.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{check_if_match, meta, parse_body, AdminUser};
use crate::admin::{etag, Admin, AdminError};
use crate::api::ApiError;
use crate::engine::rule::{Rule, RuleStatus};
use crate::engine::{Pack, Problem};

pub(super) fn register(routes: &mut super::Routes) {
    routes
        .add(__path_list_rules, list_rules)
        .add(__path_create_rule, create_rule)
        .add(__path_get_rule, get_rule)
        .add(__path_replace_rule, replace_rule)
        .add(__path_patch_parameters, patch_parameters)
        .add(__path_set_status, set_status);
}

fn rule_json(rule: &Rule) -> Value {
    serde_json::to_value(rule).unwrap_or(Value::Null)
}

fn rule_of<'p>(pack: &'p Pack, id: &str) -> Result<&'p Rule, AdminError> {
    pack.rules
        .get(id)
        .ok_or_else(|| AdminError::NotFound(format!("no rule `{id}`")))
}

fn rule_view(id: String) -> impl Fn(&Pack) -> Option<Value> {
    move |p: &Pack| p.rules.get(&id).map(rule_json)
}

#[utoipa::path(
    get,
    path = "/admin/rules",
    tag = "rules",
    summary = "List rules with status, hooks and ETag",
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn list_rules(user: AdminUser, admin: web::Data<Admin>) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    let (pack, version) = admin.active.get();
    let rules: Vec<Value> = pack
        .pack()
        .rules
        .values()
        .map(|r| json!({"id": r.id, "title": r.title, "status": r.status, "hooks": r.hooks, "prevention": r.prevention, "etag": etag(&rule_json(r))}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"packVersion": version, "rules": rules})))
}

#[utoipa::path(
    get,
    path = "/admin/rules/{id}",
    tag = "rules",
    summary = "Get one rule (ETag header)",
    params(("id" = String, Path, description = "its id")),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:read"]))
)]
async fn get_rule(
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    user.require("rules:read")?;
    let (pack, _) = admin.active.get();
    let rule = rule_json(rule_of(pack.pack(), &id)?);
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", etag(&rule)))
        .json(rule))
}

#[utoipa::path(
    post,
    path = "/admin/rules",
    tag = "rules",
    summary = "Create a rule (validated with the whole pack)",
    request_body(description = "Rule", content((super::openapi::Rule = "application/json"), (super::openapi::Rule = "application/yaml"))),
    responses((status = 201, description = "created")),
    security(("bearer" = ["rules:write"]))
)]
async fn create_rule(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("rules:write")?;
    let rule: Rule = parse_body(&req, "rules/(new)", &body)?;
    let id = rule.id.clone();
    let view = rule_view(id.clone());
    let committed = admin
        .change(
            meta(&req, actor, "rule.create", Some(&id)),
            |p| {
                if p.rules.contains_key(&rule.id) {
                    return Err(AdminError::Exists(format!(
                        "rule `{}` exists; use PUT to replace it",
                        rule.id
                    )));
                }
                p.rules.insert(rule.id.clone(), rule);
                Ok(())
            },
            view,
        )
        .await?;
    respond_rule(&admin, &id, committed.version, true)
}

#[utoipa::path(
    put,
    path = "/admin/rules/{id}",
    tag = "rules",
    summary = "Replace a rule (If-Match)",
    params(("id" = String, Path, description = "its id")),
    request_body(description = "Rule", content((super::openapi::Rule = "application/json"), (super::openapi::Rule = "application/yaml"))),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:write"]))
)]
async fn replace_rule(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("rules:write")?;
    let rule: Rule = parse_body(&req, &format!("rules/{id}.yaml"), &body)?;
    if rule.id != *id {
        return Err(AdminError::Invalid(vec![Problem {
            file: format!("rules/{id}.yaml"),
            path: "id".into(),
            message: format!("id `{}` does not match the URL", rule.id),
        }])
        .into());
    }
    let committed = admin
        .change(
            meta(&req, actor, "rule.replace", Some(&id)),
            |p| {
                check_if_match(&req, &etag(&rule_json(rule_of(p, &id)?)))?;
                p.rules.insert(id.clone(), rule);
                Ok(())
            },
            rule_view(id.to_string()),
        )
        .await?;
    respond_rule(&admin, &id, committed.version, false)
}

#[utoipa::path(
    patch,
    path = "/admin/rules/{id}/parameters",
    tag = "rules",
    summary = "Change parameter values (If-Match)",
    params(("id" = String, Path, description = "its id")),
    request_body(content = super::openapi::ParameterChanges, description = "ParameterChanges"),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:write"]))
)]
async fn patch_parameters(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("rules:write")?;
    let body: BTreeMap<String, ParameterPatch> =
        parse_body(&req, &format!("rules/{id}.yaml"), &body)?;
    let committed = admin
        .change(
            meta(&req, actor, "rule.parameters", Some(&id)),
            |p| {
                check_if_match(&req, &etag(&rule_json(rule_of(p, &id)?)))?;
                let rule = p
                    .rules
                    .get_mut(id.as_str())
                    .ok_or_else(|| AdminError::NotFound(format!("no rule `{id}`")))?;
                let unknown: Vec<Problem> = body
                    .keys()
                    .filter(|k| !rule.parameters.contains_key(*k))
                    .map(|k| Problem {
                        file: format!("rules/{id}.yaml"),
                        path: format!("parameters.{k}"),
                        message: format!("unknown parameter `{k}`"),
                    })
                    .collect();
                if !unknown.is_empty() {
                    return Err(AdminError::Invalid(unknown));
                }
                for (k, patch) in body.iter() {
                    if let Some(p) = rule.parameters.get_mut(k) {
                        match patch {
                            ParameterPatch::Value(v) => p.value = *v,
                            ParameterPatch::Values { value, products } => {
                                p.value = value.unwrap_or(p.value);
                                p.products.clone_from(products);
                            }
                        }
                    }
                }
                Ok(())
            },
            rule_view(id.to_string()),
        )
        .await?;
    respond_rule(&admin, &id, committed.version, false)
}

/// One parameter's change: a number sets its value; an object may set the value and replaces
/// the per-product values (`{"value": 14, "products": {"obe-cel": 28}}`; `{}` removes them).
#[derive(Deserialize)]
#[serde(untagged)]
enum ParameterPatch {
    Value(f64),
    Values {
        #[serde(default)]
        value: Option<f64>,
        #[serde(default)]
        products: BTreeMap<String, f64>,
    },
}

#[derive(Deserialize)]
struct StatusRequest {
    status: RuleStatus,
}

#[utoipa::path(
    put,
    path = "/admin/rules/{id}/status",
    tag = "rules",
    summary = "Change status: draft, active, retired (If-Match)",
    params(("id" = String, Path, description = "its id")),
    request_body(content = super::openapi::StatusChange, description = "StatusChange"),
    responses((status = 200, description = "OK")),
    security(("bearer" = ["rules:write"]))
)]
async fn set_status(
    req: HttpRequest,
    user: AdminUser,
    admin: web::Data<Admin>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let actor = user.require("rules:write")?;
    let body: StatusRequest = parse_body(&req, &format!("rules/{id}.yaml"), &body)?;
    let committed = admin
        .change(
            meta(&req, actor, "rule.status", Some(&id)),
            |p| {
                check_if_match(&req, &etag(&rule_json(rule_of(p, &id)?)))?;
                if let Some(rule) = p.rules.get_mut(id.as_str()) {
                    rule.status = body.status;
                }
                Ok(())
            },
            rule_view(id.to_string()),
        )
        .await?;
    respond_rule(&admin, &id, committed.version, false)
}

fn respond_rule(
    admin: &Admin,
    id: &str,
    version: i64,
    created: bool,
) -> Result<HttpResponse, ApiError> {
    let (pack, _) = admin.active.get();
    let rule = rule_json(rule_of(pack.pack(), id)?);
    let mut resp = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(resp
        .insert_header(("ETag", etag(&rule)))
        .insert_header(("Location", format!("/admin/rules/{id}")))
        .json(json!({"packVersion": version, "rule": rule})))
}
