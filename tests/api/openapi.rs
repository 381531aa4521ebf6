//! The OpenAPI document at `GET /api/v1/openapi.json` against the server it describes:
//! the same endpoints, the same error codes, and real answers (successes and errors)
//! with the documented statuses and exactly the documented fields. (`./scripts/test`
//! also fuzzes the server against it with schemathesis.)

use crate::helpers::*;
use serde_json::{json, Value};
use stay_signed_in::auth::{AuthError, EndReason};
use std::collections::BTreeSet;

async fn document(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            resolve(doc, doc.pointer(pointer).expect("the $ref exists"))
        }
        None => schema,
    }
}

/// Whether `value` matches `schema`, for the keywords the document uses; objects must
/// carry every documented field and no other (so a field added to or dropped from an
/// answer shows up here).
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    let fail = |what: &str| Err(format!("{at}: {what} (value {value}, schema {schema})"));
    if let Some(options) = schema["oneOf"].as_array() {
        let matching = options
            .iter()
            .filter(|option| check(doc, option, value, at).is_ok())
            .count();
        return if matching == 1 {
            Ok(())
        } else {
            fail("not exactly one of oneOf")
        };
    }
    if let Some(constant) = schema.get("const") {
        return if value == constant {
            Ok(())
        } else {
            fail("not the const")
        };
    }
    if let Some(options) = schema["enum"].as_array() {
        return if options.contains(value) {
            Ok(())
        } else {
            fail("not in the enum")
        };
    }
    match schema["type"].as_str() {
        Some("object") => {
            let Some(object) = value.as_object() else {
                return fail("not an object");
            };
            let Some(properties) = schema["properties"].as_object() else {
                return Ok(());
            };
            let documented: BTreeSet<&String> = properties.keys().collect();
            let present: BTreeSet<&String> = object.keys().collect();
            if documented != present {
                return fail("fields differ from the documented ones");
            }
            for (name, field) in object {
                check(doc, &properties[name], field, &format!("{at}.{name}"))?;
            }
            Ok(())
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                return fail("not an array");
            };
            for (index, item) in items.iter().enumerate() {
                check(doc, &schema["items"], item, &format!("{at}[{index}]"))?;
            }
            Ok(())
        }
        Some("string") if !value.is_string() => fail("not a string"),
        Some("boolean") if !value.is_boolean() => fail("not a boolean"),
        Some("integer") if value.as_u64().is_none() => fail("not a non-negative integer"),
        _ => Ok(()),
    }
}

/// Sends `body` to `path` (with `access` as bearer, if any) and checks the answer
/// against the document: a documented status, JSON, the documented schema.
async fn conforms(
    app: &TestApp,
    doc: &Value,
    path: &str,
    access: Option<&str>,
    body: &str,
) -> Value {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(access) = access {
        request = request.bearer_auth(access);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16().to_string();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    let answer: Value = response.json().await.unwrap();
    let operation = &doc["paths"][path]["post"];
    let documented = resolve(doc, &operation["responses"][&status]);
    assert!(
        documented.is_object(),
        "{path} answered {status}, which is not documented: {answer}"
    );
    assert_eq!(content_type, "application/json", "{path} {status}");
    let schema = &documented["content"]["application/json"]["schema"];
    if let Err(mismatch) = check(doc, schema, &answer, path) {
        panic!("{path} {status} does not match the document: {mismatch}");
    }
    answer
}

#[redis_test]
async fn the_document_is_served_as_openapi_3_1() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[redis_test]
async fn the_document_lists_exactly_the_servers_endpoints() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (path.clone(), method.to_uppercase()))
        })
        .collect();
    let mut served: BTreeSet<(String, String)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (path.to_string(), method.to_string()))
        .collect();
    served.insert(("/api/v1/openapi.json".into(), "GET".into()));
    assert_eq!(documented, served);
}

/// Every variant the server can send; a new variant
/// does not compile here until it is listed, and then must be documented.
fn every_server_error() -> Vec<AuthError> {
    let all = vec![
        AuthError::Unauthorized,
        AuthError::SessionEnded {
            reason: EndReason::Expired,
        },
        AuthError::RefreshSuperseded,
        AuthError::LinkInvalid,
        AuthError::RateLimited { retry_after: 1 },
        AuthError::Unavailable,
        AuthError::bad_request("x"),
        AuthError::Internal,
        AuthError::UseDpopNonce {
            nonce: "n0nce".into(),
        },
        AuthError::InvalidDpopProof,
    ];
    for error in &all {
        match error {
            AuthError::Unauthorized
            | AuthError::SessionEnded { .. }
            | AuthError::RefreshSuperseded
            | AuthError::LinkInvalid
            | AuthError::RateLimited { .. }
            | AuthError::Unavailable
            | AuthError::BadRequest { .. }
            | AuthError::Internal
            | AuthError::UseDpopNonce { .. }
            | AuthError::InvalidDpopProof => {}
        }
    }
    all
}

#[redis_test]
async fn every_error_the_server_sends_is_documented_with_its_status() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for error in every_server_error() {
        let wire = serde_json::to_value(&error).unwrap();
        let status = error.status().to_string();
        let documented = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(|item| item["post"]["responses"].get(&status))
            .map(|response| &resolve(&doc, response)["content"]["application/json"]["schema"])
            .any(|schema| check(&doc, schema, &wire, "error").is_ok());
        assert!(documented, "{wire} with status {status} is not documented");
    }
}

#[redis_test]
async fn real_answers_match_the_document() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let pair = app.sign_in(&email()).await;
    let access = Some(pair.access.as_str());
    let other = app.sign_in(&email()).await;

    // Successes, each with its documented request shape (and empty bodies for calls
    // without arguments).
    conforms(&app, &doc, "/api/v1/status", None, "{}").await;
    conforms(&app, &doc, "/api/v1/me", access, "{}").await;
    conforms(
        &app,
        &doc,
        "/api/v1/notes/add",
        access,
        r#"{"text":"hello"}"#,
    )
    .await;
    let notes = conforms(&app, &doc, "/api/v1/notes", access, "").await;
    assert_eq!(notes.as_array().unwrap().len(), 1);
    let sessions = conforms(&app, &doc, "/api/v1/sessions", access, "{}").await;
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    let link = json!({ "email": email() }).to_string();
    conforms(&app, &doc, "/api/v1/auth/magic-link", None, &link).await;
    let linked = email();
    app.request_link(&linked).await;
    let token = json!({ "token": app.link_token(&linked).await }).to_string();
    let account = conforms(&app, &doc, "/api/v1/auth/link", None, &token).await;
    assert_eq!(account["email"], linked.as_str());
    let refresh = json!({ "refresh_token": pair.refresh }).to_string();
    let next = conforms(&app, &doc, "/api/v1/auth/refresh", None, &refresh).await;
    let other_id = app.authed_json("me", &other.access, json!({})).await["session"]["id"].clone();
    let revoke = json!({ "session_id": other_id }).to_string();
    conforms(
        &app,
        &doc,
        "/api/v1/sessions/revoke",
        Some(&other.access),
        &revoke,
    )
    .await;

    // Errors: bad input, unknown links, missing and dead tokens.
    conforms(&app, &doc, "/api/v1/notes/add", access, r#"{"text":"  "}"#).await;
    conforms(&app, &doc, "/api/v1/notes/add", access, "{not json").await;
    conforms(
        &app,
        &doc,
        "/api/v1/sessions/revoke",
        access,
        r#"{"session_id":"x"}"#,
    )
    .await;
    conforms(
        &app,
        &doc,
        "/api/v1/auth/magic-link",
        None,
        r#"{"email":"nobody"}"#,
    )
    .await;
    conforms(
        &app,
        &doc,
        "/api/v1/auth/verify",
        None,
        r#"{"token":"nope"}"#,
    )
    .await;
    conforms(&app, &doc, "/api/v1/auth/verify", None, "{}").await;
    conforms(&app, &doc, "/api/v1/me", None, "{}").await;
    conforms(&app, &doc, "/api/v1/me", Some(&other.access), "{}").await;
    let logout = json!({ "refresh_token": next["refresh_token"] }).to_string();
    conforms(&app, &doc, "/api/v1/auth/logout", None, &logout).await;
    let ended = conforms(&app, &doc, "/api/v1/auth/refresh", None, &logout).await;
    assert_eq!(ended["error"], "session_ended");
    conforms(&app, &doc, "/api/v1/auth/logout-all", access, "{}").await;
}
