//! The OpenAPI 3.1 document, generated from the route table ([`crate::api::routes::ROUTES`]):
//! paths, parameters, success statuses, and the JSON schemas (JSON Schema 2020-12, derived
//! with `schemars` from the types the handlers deserialize and serialize) of request bodies
//! and of the response bodies the API owns. Engine types returned as they are
//! (organizations, members, alerts, findings…) are named in each route's summary.

use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::api::routes::ROUTES;

/// The OpenAPI document of the router.
pub fn document() -> Value {
    let mut generator: SchemaGenerator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
        })
        .into_generator();
    let mut paths = Map::new();
    for r in ROUTES {
        let params: Vec<Value> = path_params(r.path)
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut success = json!({"description": "Success"});
        if let Some(schema) = r.response {
            success["content"] =
                json!({"application/json": {"schema": schema(&mut generator).to_value()}});
        }
        let mut op = json!({
            "operationId": r.operation_id,
            "summary": r.summary,
            "parameters": params,
            "responses": {
                r.success.to_string(): success,
                "default": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        if let Some(schema) = r.request {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {
                "schema": schema(&mut generator).to_value()
            }}});
        }
        let entry = paths.entry(r.path).or_insert_with(|| json!({}));
        entry[r.method.as_str().to_ascii_lowercase()] = op;
    }
    let mut schemas = generator.take_definitions(true);
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}}
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {"title": "hxb API", "version": crate::VERSION},
        "paths": paths,
        "components": {"schemas": schemas}
    })
}

fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn params_are_found() {
        let p: Vec<_> = super::path_params("/a/{org}/b/{ws}").collect();
        assert_eq!(p, ["org", "ws"]);
    }

    #[test]
    fn schemas_are_referenced_from_components() {
        let doc = super::document();
        let body = &doc["paths"]["/api/v1/organizations"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        let name = body["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
        let schema = &doc["components"]["schemas"][name];
        assert_eq!(schema["required"], serde_json::json!(["name"]), "{schema}");
    }
}
