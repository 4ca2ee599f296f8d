//! Guarded remediation and the operations agent through the engine.

use std::time::Duration;

use hxb::prelude::*;
use hxb::remediation::{
    Action, ActionKind, AgentOptions, Decision, Policy, Provider, StopReason, WorkloadKind,
    WriteMode,
};
use serde_json::Value;

const NS: &str = "acme-dev-web";
const VIEWER: &str = "viewer@acme.example";
const DEV: &str = "dev@acme.example";
const LEAD: &str = "lead@acme.example";
const OWNER: &str = "owner@acme.example";

/// An organization with one project running `api` (2 replicas) and `fn` (a function with two
/// versions), and four people: a viewer, a developer, a workspace admin, the owner.
async fn world() -> Engine {
    let engine = Engine::embedded().unwrap();
    let t = engine.tenancy().unwrap();
    t.create_organization("acme")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    t.create_workspace("acme", "dev")
        .plan("professional")
        .execute()
        .await
        .unwrap();
    let quota = ResourceList::parse([
        ("requests.cpu", "2"),
        ("requests.memory", "4Gi"),
        ("requests.storage", "10Gi"),
        ("pods", "10"),
        ("services", "5"),
        ("persistentvolumeclaims", "5"),
    ])
    .unwrap();
    t.create_project("acme", "dev", "web")
        .quota(quota)
        .execute()
        .await
        .unwrap();
    for (who, role) in [(VIEWER, "viewer"), (DEV, "developer"), (LEAD, "admin")] {
        t.add_member("acme", who)
            .workspace("dev")
            .role(role)
            .execute()
            .await
            .unwrap();
    }
    t.add_member("acme", OWNER)
        .role("owner")
        .execute()
        .await
        .unwrap();
    t.create_app("acme", "dev", "web", "api")
        .stateless("nginx")
        .replicas(2)
        .execute()
        .await
        .unwrap();
    t.create_app("acme", "dev", "web", "fn")
        .function("shop/fn:v1")
        .execute()
        .await
        .unwrap();
    t.deploy_function("acme", "dev", "web", "fn", "shop/fn:v2")
        .execute()
        .await
        .unwrap();
    engine
}

fn restart() -> Action {
    Action::Restart {
        kind: WorkloadKind::Deployment,
        namespace: NS.into(),
        name: "api".into(),
    }
}

async fn deployment(engine: &Engine) -> Value {
    let mut d = engine.get("Deployment", "api", Some(NS)).await.unwrap();
    // Status moves on its own; compare what a remediation would change.
    d.as_object_mut().unwrap().remove("status");
    d
}

/// Runs `action` for `who` (applied, or as a dry run) and returns the error it must end in.
async fn refused(engine: &Engine, who: &str, action: Action, apply: bool) -> Error {
    let request = engine.remediate(who, action);
    let request = if apply { request.apply() } else { request };
    request.execute().await.unwrap_err()
}

fn restarted_at(d: &Value) -> Option<&str> {
    d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].as_str()
}

#[tokio::test]
async fn out_of_rbac_actions_are_refused_and_change_nothing() {
    let engine = world().await;
    let before = deployment(&engine).await;
    for action in [
        restart(),
        Action::Scale {
            kind: WorkloadKind::Deployment,
            namespace: NS.into(),
            name: "api".into(),
            replicas: 3,
        },
    ] {
        let err = refused(&engine, VIEWER, action, true).await;
        assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    }
    // Quota raises belong to the organization's owners and admins, not to project roles.
    let raise = Action::RaiseQuota {
        namespace: NS.into(),
        add: ResourceList::parse([("requests.cpu", "1")]).unwrap(),
    };
    let err = refused(&engine, LEAD, raise.clone(), true).await;
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    // A stranger, a malformed subject, a bad action.
    let err = refused(&engine, "mallory@evil.example", restart(), false).await;
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let err = refused(&engine, "  ", restart(), false).await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let bad = Action::Scale {
        kind: WorkloadKind::Deployment,
        namespace: NS.into(),
        name: "api".into(),
        replicas: -1,
    };
    let err = refused(&engine, DEV, bad, true).await;
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    assert_eq!(deployment(&engine).await, before);
    let project = engine
        .tenancy()
        .unwrap()
        .project("acme", "dev", "web")
        .await
        .unwrap();
    assert_eq!(project.quota.get_or_zero("requests.cpu").to_string(), "2");
    assert!(engine.pending_remediations().await.unwrap().is_empty());
    let audit = engine.remediation_audit(100).await.unwrap();
    let refused = audit
        .iter()
        .filter(|a| a.result.starts_with("refused: forbidden"))
        .count();
    assert_eq!(refused, 4, "{audit:#?}");
}

#[tokio::test]
async fn over_the_blast_radius_is_refused_and_changes_nothing() {
    let engine = world().await;
    let before = deployment(&engine).await;
    let mut policy = Policy::default().automatic([ActionKind::Restart, ActionKind::Scale]);
    policy.max_pods_per_hour = 1;
    engine.set_remediation_policy(policy).unwrap();
    // A restart replaces both pods: over the 1-pod budget, even as a dry run.
    let err = refused(&engine, DEV, restart(), false).await;
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.to_string().contains("blast radius"), "{err}");
    let err = refused(&engine, DEV, restart(), true).await;
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    // Scale-ups beyond ×2 are refused too.
    let err = engine
        .remediate(
            DEV,
            Action::Scale {
                kind: WorkloadKind::Deployment,
                namespace: NS.into(),
                name: "api".into(),
                replicas: 5,
            },
        )
        .apply()
        .execute()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(err.to_string().contains("scale-up"), "{err}");
    assert_eq!(deployment(&engine).await, before);

    // Within the limits an automatic action runs at once.
    let done = engine
        .remediate(
            DEV,
            Action::Scale {
                kind: WorkloadKind::Deployment,
                namespace: NS.into(),
                name: "api".into(),
                replicas: 3,
            },
        )
        .apply()
        .execute()
        .await
        .unwrap();
    assert_eq!(done.outcome.decision, Decision::Executed);
    assert_eq!(done.pending, None);
    assert_eq!(deployment(&engine).await["spec"]["replicas"], 3);

    // Bad limits are refused and the policy stays.
    let nan = Policy {
        max_scale_up_factor: f64::NAN,
        ..Policy::default()
    };
    let err = engine.set_remediation_policy(nan).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(engine.remediation_policy().unwrap().max_pods_per_hour, 1);
}

#[tokio::test]
async fn dry_run_by_default_then_approval_by_a_second_person() {
    let engine = world().await;
    let before = deployment(&engine).await;
    assert_eq!(restarted_at(&before), None);

    let preview = engine.remediate(DEV, restart()).execute().await.unwrap();
    assert_eq!(preview.outcome.decision, Decision::DryRun);
    assert_eq!(preview.outcome.disrupted_pods, 2);
    assert_eq!(deployment(&engine).await, before);

    let asked = engine
        .remediate(DEV, restart())
        .apply()
        .execute()
        .await
        .unwrap();
    assert_eq!(asked.outcome.decision, Decision::NeedsApproval);
    let id = asked.pending.clone().expect("a pending id");
    let pending = engine.pending_remediations().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, id);
    assert_eq!(pending[0].requested_by, DEV);
    assert_eq!(pending[0].action, restart());
    assert_eq!(deployment(&engine).await, before);

    // Not by the requester, not by someone without the right, not an unknown id.
    for (who, kind) in [(DEV, ErrorKind::Forbidden), (VIEWER, ErrorKind::Forbidden)] {
        let err = engine.approve_remediation(&id, who).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{who}: {err}");
    }
    let err = engine.approve_remediation("rem-0", LEAD).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = engine.approve_remediation(&id, "").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(engine.pending_remediations().await.unwrap(), pending);
    assert_eq!(deployment(&engine).await, before);

    let done = engine.approve_remediation(&id, LEAD).await.unwrap();
    assert_eq!(done.outcome.decision, Decision::Executed);
    assert!(restarted_at(&deployment(&engine).await).is_some());
    assert!(engine.pending_remediations().await.unwrap().is_empty());
    let err = engine.approve_remediation(&id, LEAD).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let audit = engine.remediation_audit(100).await.unwrap();
    let results: Vec<(&str, &str)> = audit
        .iter()
        .map(|a| (a.actor.as_str(), a.result.as_str()))
        .collect();
    assert!(results.contains(&(DEV, "dry-run")), "{results:?}");
    assert!(results.contains(&(DEV, "awaiting approval")), "{results:?}");
    assert!(results.contains(&(LEAD, "ok")), "{results:?}");
    assert_eq!(engine.remediation_audit(1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_pending_remediation_can_be_rejected_or_withdrawn() {
    let engine = world().await;
    let before = deployment(&engine).await;
    let ask = || async {
        let asked = engine.remediate(DEV, restart()).apply().execute().await;
        asked.unwrap().pending.expect("a pending id")
    };
    let id = ask().await;
    let pending = engine.pending_remediations().await.unwrap();

    // Not by someone without the action's rights, not an unknown id or a bad name.
    let err = engine.reject_remediation(&id, VIEWER).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    let err = engine.reject_remediation("rem-0", LEAD).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = engine.reject_remediation(&id, "").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(engine.pending_remediations().await.unwrap(), pending);

    // Rejected by the lead: gone, never run, and no longer approvable.
    let rejected = engine.reject_remediation(&id, LEAD).await.unwrap();
    assert_eq!(rejected, pending[0]);
    assert!(engine.pending_remediations().await.unwrap().is_empty());
    let err = engine.approve_remediation(&id, LEAD).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(deployment(&engine).await, before);

    // Withdrawn by the requester, who could not approve it.
    let id = ask().await;
    engine.reject_remediation(&id, DEV).await.unwrap();
    assert!(engine.pending_remediations().await.unwrap().is_empty());
    assert_eq!(deployment(&engine).await, before);

    let audit = engine.remediation_audit(100).await.unwrap();
    let rejections: Vec<&str> = audit
        .iter()
        .filter(|a| a.action == "reject_remediation")
        .map(|a| a.actor.as_str())
        .collect();
    assert_eq!(rejections, [LEAD, DEV]);
}

#[tokio::test]
async fn quota_raises_and_function_rollbacks_go_through_the_tenancy() {
    let engine = world().await;
    let t = engine.tenancy().unwrap();
    engine
        .set_remediation_policy(
            Policy::default().automatic([ActionKind::RaiseQuota, ActionKind::RollbackFunction]),
        )
        .unwrap();
    let raise = |cpu: &str| Action::RaiseQuota {
        namespace: NS.into(),
        add: ResourceList::parse([("requests.cpu", cpu)]).unwrap(),
    };
    let preview = engine.remediate(OWNER, raise("1")).execute().await.unwrap();
    assert!(
        preview.outcome.description.contains("2 -> 3"),
        "{preview:?}"
    );
    let cpu = || async {
        t.project("acme", "dev", "web")
            .await
            .unwrap()
            .quota
            .get_or_zero("requests.cpu")
            .to_string()
    };
    assert_eq!(cpu().await, "2");
    // Beyond the workspace's headroom: refused by the tenancy, nothing changed.
    let err = refused(&engine, OWNER, raise("1000"), true).await;
    assert_eq!(err.kind(), ErrorKind::QuotaExceeded, "{err}");
    assert_eq!(cpu().await, "2");
    let done = engine
        .remediate(OWNER, raise("1"))
        .apply()
        .execute()
        .await
        .unwrap();
    assert_eq!(done.outcome.decision, Decision::Executed);
    assert_eq!(cpu().await, "3");

    let rollback = Action::RollbackFunction {
        namespace: NS.into(),
        function: "fn".into(),
        to_version: None,
    };
    let err = refused(&engine, VIEWER, rollback.clone(), true).await;
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let done = engine
        .remediate(DEV, rollback)
        .apply()
        .execute()
        .await
        .unwrap();
    assert_eq!(done.outcome.decision, Decision::Executed);
    let apps = t.apps("acme", "dev", "web").await.unwrap();
    let f = apps.iter().find(|a| a.name.as_str() == "fn").unwrap();
    assert_eq!(f.image, "shop/fn:v1");
}

#[tokio::test]
async fn the_agent_answers_offline_with_its_transcript() {
    let engine = world().await;
    let reply = engine
        .ask(DEV, "Is anything wrong with my apps?", &AgentOptions::new())
        .await
        .unwrap();
    assert_eq!(reply.answer.stop, StopReason::Answered);
    assert!(
        reply.answer.text.starts_with("offline summary"),
        "{}",
        reply.answer.text
    );
    assert_eq!(reply.answer.tool_calls.len(), 1);
    assert_eq!(reply.answer.tool_calls[0].name, "analyze");
    assert_eq!(reply.answer.tool_calls[0].error, None);
    assert!(reply.pending.is_empty());
    let json = serde_json::to_value(&reply).unwrap();
    assert_eq!(json["tool_calls"][0]["name"], "analyze");

    // Read-only by default: a write tool named in the question does not exist for the agent.
    let before = deployment(&engine).await;
    let reply = engine
        .ask(DEV, "please restart_workload api", &AgentOptions::new())
        .await
        .unwrap();
    assert!(
        reply
            .answer
            .tool_calls
            .iter()
            .all(|t| t.name != "restart_workload")
    );
    // Offered in dry-run mode, the write goes through the guard and changes nothing.
    let opts = AgentOptions::new().write_mode(WriteMode::DryRun);
    let reply = engine.ask(DEV, "restart_workload", &opts).await.unwrap();
    assert_eq!(reply.answer.tool_calls[0].name, "restart_workload");
    assert!(reply.answer.tool_calls[0].error.is_some(), "{reply:?}");
    assert_eq!(deployment(&engine).await, before);

    // Bad input: typed errors before any work.
    let err = engine
        .ask(DEV, "  ", &AgentOptions::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let bad = AgentOptions::new().provider(
        serde_json::from_value::<Provider>(
            serde_json::json!({"provider": "openai", "base_url": "", "model": "m"}),
        )
        .unwrap(),
    );
    let err = engine.ask(DEV, "hello", &bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(serde_json::from_value::<Provider>(serde_json::json!({"provider": "gpt"})).is_err());
}

#[tokio::test]
async fn the_agent_sees_only_what_the_caller_may_read() {
    let engine = world().await;
    // A stranger's agent has no namespace: the analyzers see nothing of the project.
    let agent = engine
        .agent("mallory@evil.example", &AgentOptions::new())
        .await
        .unwrap();
    let answer = agent.ask("list_pods").await.unwrap();
    assert!(answer.tool_calls[0].error.is_some(), "{answer:?}");
    // Asking for a namespace outside RBAC does not widen it.
    let opts = AgentOptions::new().namespaces([NS]);
    let reply = engine
        .ask("mallory@evil.example", "analyze", &opts)
        .await
        .unwrap();
    assert_eq!(reply.answer.tool_calls[0].name, "analyze");
    assert!(!reply.answer.text.contains("api"), "{}", reply.answer.text);
}

/// An OpenAI-compatible endpoint on a local socket answering `replies` (one assistant
/// message each, in order, one connection each); yields every request it read.
async fn fake_openai_replying(
    replies: Vec<Value>,
) -> (String, tokio::task::JoinHandle<Vec<String>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut requests = Vec::new();
        for message in replies {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let body_start = loop {
                let n = sock.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let head = String::from_utf8_lossy(&buf[..body_start]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            while buf.len() < body_start + len {
                let n = sock.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            let finish = if message.get("tool_calls").is_some() {
                "tool_calls"
            } else {
                "stop"
            };
            let body =
                serde_json::json!({"choices": [{"message": message, "finish_reason": finish}]})
                    .to_string();
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(reply.as_bytes()).await.unwrap();
            requests.push(String::from_utf8_lossy(&buf).into_owned());
        }
        requests
    });
    (url, task)
}

/// The endpoint answering one canned completion.
async fn fake_openai() -> (String, tokio::task::JoinHandle<String>) {
    let (url, task) = fake_openai_replying(vec![
        serde_json::json!({"role": "assistant", "content": "All quiet in <ns-1>."}),
    ])
    .await;
    (
        url,
        tokio::spawn(async move { task.await.unwrap().remove(0) }),
    )
}

#[tokio::test]
async fn the_agents_write_requests_wait_for_approval() {
    let engine = world().await;
    let before = deployment(&engine).await;
    // The model asks for a restart (with real names: they pass through unchanged), then answers.
    let call = serde_json::json!({"role": "assistant", "content": null, "tool_calls": [{
        "id": "call_1", "type": "function", "function": {"name": "restart_workload",
        "arguments": serde_json::json!({"namespace": NS, "name": "api", "kind": "Deployment"}).to_string()}}]});
    let done = serde_json::json!({"role": "assistant", "content": "Restart requested."});
    let (url, server) = fake_openai_replying(vec![call.clone(), done.clone()]).await;
    let provider = |url: &str| {
        serde_json::from_value::<Provider>(
            serde_json::json!({"provider": "openai", "base_url": url, "model": "tiny"}),
        )
        .unwrap()
    };
    let opts = AgentOptions::new()
        .provider(provider(&url))
        .write_mode(WriteMode::Request);
    let reply = engine.ask(DEV, "please restart api", &opts).await.unwrap();
    server.await.unwrap();
    assert_eq!(reply.answer.text, "Restart requested.");
    assert_eq!(reply.answer.tool_calls[0].name, "restart_workload");
    assert_eq!(reply.answer.tool_calls[0].error, None);
    // Not executed: recorded as pending, as the developer's own request would be.
    assert_eq!(reply.pending.len(), 1);
    let pending = engine.pending_remediations().await.unwrap();
    assert_eq!(pending[0].id, reply.pending[0]);
    assert_eq!(pending[0].requested_by, DEV);
    assert_eq!(pending[0].action, restart());
    assert_eq!(deployment(&engine).await, before);
    let done_ = engine
        .approve_remediation(&reply.pending[0], LEAD)
        .await
        .unwrap();
    assert_eq!(done_.outcome.decision, Decision::Executed);

    // The same request from a viewer is refused by the guard: an error in the transcript,
    // nothing pending, nothing changed.
    let after = deployment(&engine).await;
    let (url, server) = fake_openai_replying(vec![call, done]).await;
    let opts = AgentOptions::new()
        .provider(provider(&url))
        .write_mode(WriteMode::Request);
    let reply = engine
        .ask(VIEWER, "please restart api", &opts)
        .await
        .unwrap();
    server.await.unwrap();
    let err = reply.answer.tool_calls[0]
        .error
        .as_deref()
        .unwrap_or_default();
    assert!(err.starts_with("forbidden"), "{err}");
    assert!(reply.pending.is_empty());
    assert!(engine.pending_remediations().await.unwrap().is_empty());
    assert_eq!(deployment(&engine).await, after);
}

#[tokio::test]
async fn the_agent_talks_to_an_openai_compatible_endpoint() {
    let engine = world().await;
    let (url, server) = fake_openai().await;
    let provider: Provider = serde_json::from_value(serde_json::json!({
        "provider": "openai", "base_url": url, "model": "tiny", "api_key": "sk-test"
    }))
    .unwrap();
    assert!(!format!("{provider:?}").contains("sk-test"));
    let opts = AgentOptions::new()
        .provider(provider)
        .timeout(Duration::from_secs(10));
    let reply = engine
        .ask(DEV, "How is acme-dev-web?", &opts)
        .await
        .unwrap();
    // The placeholder comes back as the real name.
    assert_eq!(reply.answer.text, format!("All quiet in {NS}."));
    let request = server.await.unwrap();
    assert!(
        request.starts_with("POST /v1/chat/completions"),
        "{request}"
    );
    assert!(
        request
            .to_lowercase()
            .contains("authorization: bearer sk-test")
    );
    // The namespace left the process only as a placeholder.
    assert!(!request.contains(NS), "{request}");

    // Nobody listening: Unavailable (or Timeout), not a panic.
    let gone: Provider = serde_json::from_value(serde_json::json!({
        "provider": "ollama", "base_url": "http://127.0.0.1:9", "model": "m"
    }))
    .unwrap();
    let err = engine
        .ask(DEV, "hello", &AgentOptions::new().provider(gone))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Unavailable | ErrorKind::Timeout),
        "{err}"
    );
}
