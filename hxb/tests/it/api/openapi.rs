use reqwest::Method;
use serde_json::{Value, json};

use crate::api::support::Server;

/// Fill `{param}` placeholders with a value.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn document_and_router_agree() {
    let doc = hxb::api::openapi::document();
    let paths = doc["paths"].as_object().unwrap();
    let s = Server::start().await;
    let mut documented = 0;
    for (path, ops) in paths {
        let ops = ops.as_object().unwrap();
        for m in ["get", "post", "put", "patch", "delete"] {
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let (st, body) = s
                .call(
                    Some("nobody@x"),
                    method.clone(),
                    &concrete(path),
                    Some(serde_json::json!({})),
                )
                .await;
            let code = body["code"].as_str().unwrap_or("");
            if ops.contains_key(m) {
                documented += 1;
                assert!(
                    code != "unknown_route" && code != "method_not_allowed",
                    "{m} {path}: {st} {body}"
                );
                let params = ops[m]["parameters"].as_array().unwrap().len();
                assert_eq!(params, path.matches('{').count(), "{m} {path}");
            } else {
                assert_eq!(
                    (st, code),
                    (405, "method_not_allowed"),
                    "{m} {path} is served but not documented"
                );
            }
        }
    }
    assert_eq!(documented, hxb::api::ROUTES.len());
    // The route table has no duplicate operation.
    let mut ids: Vec<_> = hxb::api::ROUTES.iter().map(|r| r.operation_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), hxb::api::ROUTES.len());
}

/// Whether `v` satisfies `schema` (the JSON Schema subset schemars emits: `$ref`, `type`,
/// `properties`, `required`, `additionalProperties`, `items`, `anyOf`/`oneOf`, `enum`).
fn conforms(doc: &Value, schema: &Value, v: &Value) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return conforms(doc, &doc["components"]["schemas"][name], v);
    }
    if let Some(alts) = schema["anyOf"].as_array().or(schema["oneOf"].as_array())
        && !alts.iter().any(|s| conforms(doc, s, v).is_ok())
    {
        return Err(format!("{v} matches no alternative of {schema}"));
    }
    if let Some(e) = schema["enum"].as_array()
        && !e.contains(v)
    {
        return Err(format!("{v} not in {e:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let type_ok = |t: &str| match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => true,
    };
    if !types.is_empty() && !types.iter().any(|t| type_ok(t)) {
        return Err(format!("{v} is not {types:?}"));
    }
    if let Some(obj) = v.as_object() {
        for r in schema["required"].as_array().into_iter().flatten() {
            if !obj.contains_key(r.as_str().unwrap()) {
                return Err(format!("missing {r} in {v}"));
            }
        }
        for (k, x) in obj {
            match schema["properties"].get(k) {
                Some(s) => conforms(doc, s, x)?,
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => return Err(format!("unexpected {k} in {v}")),
                    s @ Value::Object(_) => conforms(doc, s, x)?,
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for x in a {
            conforms(doc, items, x)?;
        }
    }
    Ok(())
}

/// A valid body of each operation that takes one.
fn example(op: &str) -> Value {
    let series: Vec<f64> = (0..72).map(|i| 10.0 + (i % 24) as f64).collect();
    match op {
        "createOrganization" => json!({"name": "neworg", "plan": "starter"}),
        "addMember" => json!({"subject": "m@x", "role": "viewer", "workspace": "dev"}),
        "createWorkspace" => json!({"name": "w2", "quota": {"pods": "2"}}),
        "createProject" => json!({"name": "p2", "parent": "web", "quota": {"pods": "1"}}),
        "createInvitation" => json!({"subject": "i@x", "role": "viewer", "workspace": "dev"}),
        "createApplication" => json!({"name": "app", "image": "nginx", "replicas": 1,
            "requests": {"cpu": "100m", "memory": "128Mi"}}),
        "scaleApplication" => json!({"replicas": 2}),
        "graphql" => json!({"query": "{ organizations { name } }"}),
        "recommendReplicas" => json!({"current_replicas": 3, "min_replicas": 1,
            "max_replicas": 10, "target_cpu_utilization": 50,
            "cpu_usage": [0.45, 0.4, 0.35], "cpu_request": "500m"}),
        "forecast" => json!({"history": series, "horizon": 4, "season": 24}),
        "detectAnomalies" => json!({"points": [{"t": 1, "value": 1.0}, {"t": 2, "value": 1.5}]}),
        "acknowledgeAlert" => json!({"id": "acme/dev/none{}"}),
        other => panic!("no example for {other}"),
    }
}

fn fill(path: &str) -> String {
    path.replace("{org}", "acme")
        .replace("{ws}", "dev")
        .replace("{project}", "web")
        .replace("{app}", "app")
        .replace("{subject}", "m@x")
        .replace("{token}", "t")
}

/// Request schemas describe what the handlers accept (an example valid per the schema is
/// accepted; a body missing a required field is 400; an undeclared field is 400 where the
/// schema forbids it), and response schemas describe what they answer.
#[tokio::test]
async fn schemas_agree_with_the_handlers() {
    let doc = hxb::api::openapi::document();
    let s = Server::start().await;
    let owner = Some("owner@x");
    let org = json!({"name": "acme", "plan": "professional"});
    assert_eq!(
        s.call(owner, Method::POST, "/api/v1/organizations", Some(org))
            .await
            .0,
        201
    );
    let ws = json!({"name": "dev", "quota": {"requests.cpu": "2", "requests.memory": "4Gi", "pods": "20"}});
    let p = "/api/v1/organizations/acme/workspaces";
    assert_eq!(s.call(owner, Method::POST, p, Some(ws)).await.0, 201);
    let p = "/api/v1/organizations/acme/workspaces/dev/projects";
    assert_eq!(
        s.call(owner, Method::POST, p, Some(json!({"name": "web", "quota": {"requests.cpu": "1", "requests.memory": "2Gi", "pods": "10"}})))
            .await
            .0,
        201
    );
    let (mut bodies, mut responses) = (0, 0);
    for r in hxb::api::ROUTES {
        let op = &doc["paths"][r.path][r.method.as_str().to_ascii_lowercase()];
        let path = fill(r.path);
        let request = &op["requestBody"]["content"]["application/json"]["schema"];
        let body = if request.is_null() {
            None
        } else {
            bodies += 1;
            let ex = example(r.operation_id);
            conforms(&doc, request, &ex).unwrap_or_else(|e| panic!("{}: {e}", r.operation_id));
            // Missing required fields.
            let resolved = &doc["components"]["schemas"][request["$ref"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap()];
            let required = resolved["required"].as_array().map_or(0, Vec::len);
            if required > 0 {
                let (st, b) = s
                    .call(owner, r.method.clone(), &path, Some(json!({})))
                    .await;
                assert_eq!(
                    (st, b["code"].as_str()),
                    (400, Some("invalid_input")),
                    "{}: {b}",
                    r.operation_id
                );
            }
            // Undeclared fields.
            if resolved["additionalProperties"] == json!(false) {
                let mut bad = ex.clone();
                bad["undeclared"] = json!(1);
                let (st, b) = s.call(owner, r.method.clone(), &path, Some(bad)).await;
                assert_eq!(
                    (st, b["code"].as_str()),
                    (400, Some("invalid_input")),
                    "{}: {b}",
                    r.operation_id
                );
            }
            Some(ex)
        };
        if body.is_none()
            && op["responses"][r.success.to_string()]
                .get("content")
                .is_none()
        {
            continue;
        }
        let (st, answer) = s.call(owner, r.method.clone(), &path, body).await;
        assert_ne!(
            answer["code"], "invalid_input",
            "{}: {answer}",
            r.operation_id
        );
        if r.operation_id == "acknowledgeAlert" {
            assert_eq!(st, 404, "{answer}");
            continue;
        }
        assert_eq!(st, r.success, "{}: {answer}", r.operation_id);
        let schema =
            &op["responses"][r.success.to_string()]["content"]["application/json"]["schema"];
        if !schema.is_null() {
            responses += 1;
            conforms(&doc, schema, &answer)
                .unwrap_or_else(|e| panic!("{} answer: {e}", r.operation_id));
        }
    }
    assert!(
        bodies >= 12 && responses >= 5,
        "{bodies} bodies, {responses} responses"
    );
}
