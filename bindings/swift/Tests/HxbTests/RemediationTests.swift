// Guarded remediation and the operations agent through Swift: plans are dry runs, requests
// wait for a second person's approval, refusals are typed and change nothing.

import Foundation
import XCTest

@testable import Hxb

final class RemediationTests: XCTestCase {
    private let ns = "acme-dev-web"
    private let viewer = "viewer@acme.example"
    private let dev = "dev@acme.example"
    private let lead = "lead@acme.example"
    private var restart: String { #"{"action": "restart", "namespace": "acme-dev-web", "name": "api"}"# }

    private func world() async throws -> Engine {
        let engine = try Engine.embedded()
        _ = try await engine.createOrganization(name: "acme", plan: "starter")
        _ = try await engine.createWorkspace(org: "acme", name: "dev")
        _ = try await engine.createProject(org: "acme", workspace: "dev", name: "web")
        for (who, role) in [(viewer, "viewer"), (dev, "developer"), (lead, "admin")] {
            _ = try await engine.addMember(org: "acme", subject: who, role: role, workspace: "dev")
        }
        _ = try await engine.createApp(org: "acme", workspace: "dev", project: "web", name: "api",
                                       spec: AppSpec(image: "nginx", replicas: 2))
        return engine
    }

    private func object(_ json: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    }

    /// The Deployment without its status (which moves on its own).
    private func deployment(_ engine: Engine) async throws -> NSDictionary {
        var d = try object(try await engine.get(kind: "Deployment", name: "api", namespace: ns))
        d.removeValue(forKey: "status")
        return d as NSDictionary
    }

    func testAViewerCannotRestartAndNothingChanges() async throws {
        let engine = try await world()
        defer { engine.close() }
        let before = try await deployment(engine)
        do {
            _ = try await engine.remediate(subject: viewer, actionJson: restart, apply: true)
            XCTFail("a viewer restarted a workload")
        } catch HxbError.Forbidden {}
        let after = try await deployment(engine)
        XCTAssertEqual(after, before)
        let pending = try await engine.pendingRemediations()
        XCTAssertEqual(pending, [])
    }

    func testDryRunThenApprovalByASecondPerson() async throws {
        let engine = try await world()
        defer { engine.close() }
        let plan = try object(try await engine.remediate(subject: dev, actionJson: restart))
        XCTAssertEqual(plan["decision"] as? String, "dry_run")
        let asked = try object(try await engine.remediate(subject: dev, actionJson: restart, apply: true))
        XCTAssertEqual(asked["decision"] as? String, "needs_approval")
        let id = try XCTUnwrap(asked["pending"] as? String)
        do {
            _ = try await engine.approveRemediation(id: id, approver: dev)
            XCTFail("the requester approved their own remediation")
        } catch HxbError.Forbidden {}
        do {
            _ = try await engine.approveRemediation(id: "rem-0", approver: lead)
            XCTFail("an unknown id was approved")
        } catch HxbError.NotFound {}
        let stillPending = try await engine.pendingRemediations()
        XCTAssertEqual(stillPending.count, 1)
        let done = try object(try await engine.approveRemediation(id: id, approver: lead))
        XCTAssertEqual(done["decision"] as? String, "executed")
        let left = try await engine.pendingRemediations()
        XCTAssertEqual(left, [])
        let audit = try await engine.remediationAudit(limit: 1)
        XCTAssertEqual(try object(audit[0])["action"] as? String, "approve_remediation")
    }

    func testAPendingRemediationCanBeWithdrawn() async throws {
        let engine = try await world()
        defer { engine.close() }
        let asked = try object(try await engine.remediate(subject: dev, actionJson: restart, apply: true))
        let id = try XCTUnwrap(asked["pending"] as? String)
        do {
            _ = try await engine.rejectRemediation(id: "rem-0", who: lead)
            XCTFail("an unknown id was rejected")
        } catch HxbError.NotFound {}
        let withdrawn = try object(try await engine.rejectRemediation(id: id, who: dev))
        XCTAssertEqual(withdrawn["id"] as? String, id)
        let left = try await engine.pendingRemediations()
        XCTAssertEqual(left, [])
    }

    func testPolicyAndBadInput() async throws {
        let engine = try await world()
        defer { engine.close() }
        try engine.setRemediationPolicy(policy: RemediationPolicy(automatic: ["scale"], maxPodsPerHour: 1))
        XCTAssertEqual(try engine.remediationPolicy().automatic, ["scale"])
        do {
            _ = try await engine.remediate(subject: dev, actionJson: restart)
            XCTFail("a restart over the blast radius was planned")
        } catch HxbError.Forbidden {}
        let policy = try engine.remediationPolicy()
        do {
            try engine.setRemediationPolicy(policy: RemediationPolicy(automatic: ["reboot"]))
            XCTFail("an unknown action kind was accepted")
        } catch HxbError.InvalidInput {}
        XCTAssertEqual(try engine.remediationPolicy(), policy)
        let before = try await deployment(engine)
        for bad in ["not json", #"{"action": "reboot"}"#,
                    #"{"action": "scale", "namespace": "acme-dev-web", "name": "api", "replicas": -1}"#] {
            do {
                _ = try await engine.remediate(subject: dev, actionJson: bad, apply: true)
                XCTFail("\(bad) was accepted")
            } catch HxbError.InvalidInput {}
        }
        let after = try await deployment(engine)
        XCTAssertEqual(after, before)
    }

    func testTheAgentAnswersOffline() async throws {
        let engine = try await world()
        defer { engine.close() }
        let reply = try object(try await engine.ask(subject: dev, question: "Is anything wrong?"))
        XCTAssertEqual(reply["stop"] as? String, "answered")
        XCTAssertTrue((reply["text"] as? String ?? "").hasPrefix("offline summary"))
        let calls = reply["tool_calls"] as? [[String: Any]] ?? []
        XCTAssertEqual(calls.map { $0["name"] as? String }, ["analyze"])
        do {
            _ = try await engine.ask(subject: dev, question: "hello", options: AskOptions(provider: "gpt"))
            XCTFail("an unknown provider was accepted")
        } catch HxbError.InvalidInput {}
        do {
            _ = try await engine.ask(subject: dev, question: "hello",
                                     options: AskOptions(provider: "openai", model: "m"))
            XCTFail("an OpenAI provider without a URL was accepted")
        } catch HxbError.InvalidInput {}
    }
}
