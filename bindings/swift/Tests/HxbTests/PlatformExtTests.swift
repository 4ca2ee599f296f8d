// Backup and restore, plan policy and the multi-cluster fleet from Swift: each refusal is its
// HxbError case and changes nothing. (The same calls run on every CI build through uniffi's
// Python bindings: tests-uniffi-python/test_uniffi_platform_ext.py.)
import Foundation
import XCTest

@testable import Hxb

private func object(_ json: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
}

private func tenant() async throws -> Engine {
    let engine = try Engine.embedded()
    _ = try await engine.createOrganization(name: "acme", plan: "starter")
    _ = try await engine.createWorkspace(org: "acme", name: "dev")
    _ = try await engine.createProject(org: "acme", workspace: "dev", name: "web")
    _ = try await engine.createProject(org: "acme", workspace: "dev", name: "copy")
    _ = try await engine.createApp(org: "acme", workspace: "dev", project: "web", name: "shop",
                                   spec: AppSpec(image: "shop:1", port: 8080, requests: ["cpu": "150m"]))
    return engine
}

private func configMap(_ mode: String) -> String {
    #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"acme-dev-web"},"data":{"mode":""# + mode + #""}}"#
}

final class BackupTests: XCTestCase {
    func testSnapshotPlanRestoreAndRefusals() async throws {
        let engine = try await tenant()
        defer { engine.close() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: dir) }
        let backups = try engine.backups(directory: dir.path)
        let snap = try object(try await backups.snapshot(org: "acme", workspace: "dev", project: "web"))
        let id = snap["id"] as! String
        let listed = try await backups.list(org: "acme", workspace: "dev", project: "web")
        XCTAssertEqual(listed.count, 1)
        try await engine.deleteApp(org: "acme", workspace: "dev", project: "web", name: "shop")
        let plan = try object(try await backups.planRestore(id: id))
        XCTAssertEqual(plan["applied"] as? Bool, false)
        XCTAssertEqual((plan["counts"] as! [String: Any])["create"] as? Int, 2)
        _ = try await backups.restore(id: id)
        let apps = try await engine.listApps(org: "acme", workspace: "dev", project: "web")
        XCTAssertEqual(apps.count, 1)

        // an unmanaged ConfigMap edited after the snapshot: Conflict, nothing changed
        _ = try await engine.apply(manifestJson: configMap("blue"))
        let snap2 = try object(try await backups.snapshot(org: "acme", workspace: "dev", project: "web"))
        _ = try await engine.apply(manifestJson: configMap("red"))
        do {
            _ = try await backups.restore(id: snap2["id"] as! String)
            XCTFail("a conflicting restore was applied")
        } catch HxbError.Conflict {}
        let live = try await engine.get(kind: "ConfigMap", name: "settings", namespace: "acme-dev-web")
        XCTAssertTrue(live.contains("red"))

        // 150m restored beside 100m in a project of 200m: QuotaExceeded, nothing changed
        _ = try await engine.createApp(org: "acme", workspace: "dev", project: "copy", name: "other",
                                       spec: AppSpec(image: "other:1", requests: ["cpu": "100m"]))
        do {
            _ = try await backups.restore(id: id, into: ProjectRef(org: "acme", workspace: "dev", project: "copy"))
            XCTFail("an over-quota restore was applied")
        } catch HxbError.QuotaExceeded {}
        let copy = try await engine.listApps(org: "acme", workspace: "dev", project: "copy")
        XCTAssertEqual(copy.count, 1)

        // policies
        _ = try await backups.setPolicy(org: "acme", workspace: "dev", project: "web", app: "shop",
                                        schedule: "0 3 * * *", keepLast: 3)
        do {
            _ = try await backups.setPolicy(org: "acme", workspace: "dev", project: "web", app: "shop",
                                            schedule: "every night")
            XCTFail("a bad schedule was accepted")
        } catch HxbError.InvalidInput {}
        let policies = try await backups.policies(org: "acme")
        XCTAssertEqual(policies.count, 1)
        let due = try object(try await backups.runDue())
        XCTAssertEqual((due["taken"] as! [Any]).count, 0)
        try await backups.removePolicy(org: "acme", workspace: "dev", project: "web", app: "shop")
        engine.close() // the handle follows its engine
        do {
            _ = try await backups.runDue()
            XCTFail("a closed engine's backups ran")
        } catch HxbError.Closed {}
    }
}

final class PolicyTests: XCTestCase {
    private func pod(privileged: Bool, namespace: String = "acme-dev-web") -> String {
        #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"root","namespace":""# + namespace
            + #""},"spec":{"containers":[{"name":"app","image":"nginx","securityContext":{"privileged":"#
            + (privileged ? "true" : "false") + "}}]}}"
    }

    func testReviewAdmissionAndLevel() async throws {
        let engine = try await tenant()
        defer { engine.close() }
        let policy = try object(try await engine.workspacePolicy(org: "acme", workspace: "dev"))
        XCTAssertEqual(policy["level"] as? String, "baseline")
        let ok = try object(try await engine.admitManifest(manifestJson: pod(privileged: false)))
        XCTAssertEqual(ok["admitted"] as? Bool, true)
        let review = try object(try await engine.checkManifest(manifestJson: pod(privileged: true)))
        XCTAssertEqual(review["admitted"] as? Bool, false)
        do {
            _ = try await engine.admitManifest(manifestJson: pod(privileged: true))
            XCTFail("a privileged pod was admitted")
        } catch let HxbError.Forbidden(_, _, detailsJson) {
            let violations = try object(detailsJson)["violations"] as! [[String: Any]]
            XCTAssertEqual(violations.first?["path"] as? String,
                           "spec.containers[0].securityContext.privileged")
        }
        do {
            _ = try await engine.get(kind: "Pod", name: "root", namespace: "acme-dev-web")
            XCTFail("a refused pod exists")
        } catch HxbError.NotFound {}
        do {
            _ = try await engine.checkManifest(manifestJson: "{not json")
            XCTFail("accepted text that is not JSON")
        } catch HxbError.InvalidInput {}
    }
}

final class FleetTests: XCTestCase {
    func testPlacementMovesAndAFullTarget() async throws {
        let fleet = [
            FleetMember(name: "big", nodes: 3, region: "eu", labels: ["tier": "gold"]),
            FleetMember(name: "small", nodes: 1, region: "us"),
        ]
        let engine = try await Engine.open(options: EngineOptions(fleet: fleet))
        defer { engine.close() }
        _ = try await engine.createOrganization(name: "acme", plan: "starter")
        _ = try await engine.createWorkspace(org: "acme", name: "dev")
        XCTAssertNil(try engine.workspaceAssignment(org: "acme", workspace: "dev"))
        let placed = try await engine.placeWorkspace(org: "acme", workspace: "dev", region: "us")
        XCTAssertEqual(placed, "small")
        _ = try await engine.createProject(org: "acme", workspace: "dev", name: "web")
        let report = try object(try await engine.moveWorkspace(org: "acme", workspace: "dev", target: "big"))
        XCTAssertEqual(report["to"] as? String, "big")

        _ = try await engine.createOrganization(name: "beta", plan: "professional")
        _ = try await engine.createWorkspace(org: "beta", name: "prod")
        _ = try await engine.placeWorkspace(org: "beta", workspace: "prod", cluster: "big")
        let before = try await engine.fleetMembers()
        do {
            _ = try await engine.moveWorkspace(org: "beta", workspace: "prod", target: "small")
            XCTFail("a workspace moved to a member without room")
        } catch HxbError.QuotaExceeded {}
        let after = try await engine.fleetMembers()
        XCTAssertEqual(after, before)
    }
}
