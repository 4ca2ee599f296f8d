use reqwest::Method;

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
