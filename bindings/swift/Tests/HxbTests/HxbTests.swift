// XCTest suite of the Swift package (run where a Swift toolchain exists:
// `cargo build -p hxb-uniffi && swift test --package-path bindings/swift`).
// The same layer is exercised on every CI run through uniffi's Python bindings
// (bindings/swift/tests-uniffi-python).
import Foundation
import XCTest

@testable import Hxb

final class ValueTests: XCTestCase {
    func testQuantityParsesAndPrintsCanonically() throws {
        let q = try Quantity(value: "1.5Gi")
        XCTAssertEqual(q.description, "1536Mi")
        XCTAssertEqual(try q.value(), 1_610_612_736)
        XCTAssertEqual(try Quantity(value: "0.1").milliValue(), 100)
        XCTAssertEqual(q, try Quantity(value: "1536Mi"))
        XCTAssertEqual(try q.add(other: Quantity(value: "512Mi")).description, "2Gi")
        XCTAssertEqual(try Quantity(value: "250m").mul(n: 4).description, "1")
        XCTAssertEqual(try Quantity(value: "1").compare(other: Quantity(value: "999m")), 1)
    }

    func testBadInputThrowsInvalidInput() {
        for bad in ["", "1.5.5Gi", "12XB", "Gi"] {
            XCTAssertThrowsError(try Quantity(value: bad)) { error in
                guard case HxbError.InvalidInput = error else { return XCTFail("\(error)") }
            }
        }
        XCTAssertThrowsError(try Quantity.fromDouble(value: .nan))
        XCTAssertThrowsError(try Quantity(value: "100E").mul(n: 1 << 62))
        XCTAssertThrowsError(try validateName(name: "Team_A"))
        XCTAssertEqual(try validateName(name: "team-a"), "team-a")
    }

    func testQuotaAdmissionListsExceededResources() throws {
        let hard = ["requests.cpu": "1"]
        try admit(quota: "q", hard: hard, used: [:], requested: ["requests.cpu": "500m"])
        XCTAssertThrowsError(
            try admit(quota: "q", hard: hard, used: ["requests.cpu": "800m"],
                      requested: ["requests.cpu": "500m"])
        ) { error in
            guard case let HxbError.QuotaExceeded(_, _, detailsJson) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(detailsJson.contains("requests.cpu"))
        }
    }

    func testEveryErrorKindHasItsCaseAndChain() {
        XCTAssertEqual(errorKinds().count, 13)
        XCTAssertThrowsError(try raiseSampleError(kind: "backend")) { error in
            guard case let HxbError.Backend(_, causes, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(causes, ["connection refused", "no route to host"])
        }
        XCTAssertThrowsError(try raiseSampleError(kind: "closed")) { error in
            guard case HxbError.Closed = error else { return XCTFail("\(error)") }
        }
    }

    func testBatchSum() throws {
        let items = Array(repeating: "100m", count: 10_000)
        XCTAssertEqual(try sumQuantities(items: items).description, "1k")
    }
}

final class EngineTests: XCTestCase {
    func testNamespacesAndQuotaAdmission() async throws {
        let engine = try Engine.embedded()
        defer { engine.close() }
        let ns = #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"}}"#
        _ = try await engine.apply(manifestJson: ns)
        let quota = #"{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q","namespace":"team-a"},"spec":{"hard":{"requests.cpu":"1"}}}"#
        _ = try await engine.apply(manifestJson: quota)
        let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"big","namespace":"team-a"},"spec":{"containers":[{"name":"a","image":"nginx","resources":{"requests":{"cpu":"2"}}}]}}"#
        do {
            _ = try await engine.create(manifestJson: pod)
            XCTFail("admitted a pod over quota")
        } catch HxbError.QuotaExceeded {}
        let names = try await engine.list(kind: "Namespace")
        XCTAssertTrue(names.contains { $0.contains("team-a") })
    }

    func testCallsAfterCloseThrowClosed() async throws {
        let engine = try Engine.embedded()
        engine.close()
        XCTAssertTrue(engine.isClosed())
        do {
            _ = try await engine.get(kind: "Namespace", name: "team-a")
            XCTFail("a closed engine answered")
        } catch HxbError.Closed {}
    }
}

final class PlatformTests: XCTestCase {
    func testOrganizationWorkspaceProjectApp() async throws {
        let engine = try Engine.embedded()
        defer { engine.close() }
        _ = try await engine.createOrganization(name: "acme", plan: "starter", displayName: "Acme")
        _ = try await engine.createWorkspace(org: "acme", name: "dev")
        let project = try await engine.createProject(org: "acme", workspace: "dev", name: "web")
        XCTAssertTrue(project.contains("acme-dev-web"))
        let spec = AppSpec(image: "nginx:1.27", replicas: 2, port: 8080, requests: ["cpu": "100m"])
        _ = try await engine.createApp(org: "acme", workspace: "dev", project: "web", name: "api", spec: spec)
        let deployments = try await engine.list(kind: "Deployment", namespace: "acme-dev-web")
        XCTAssertEqual(deployments.count, 1)
    }

    func testScalingRecommendationAndAnomalies() throws {
        let engine = try Engine.embedded()
        defer { engine.close() }
        let rec = try engine.recommendReplicas(request: ReplicaRequest(
            cpuUsage: [0.4, 0.4, 0.4], cpuRequest: "500m", targetCpuUtilization: 50,
            currentReplicas: 3, maxReplicas: 10))
        XCTAssertEqual(rec.desiredReplicas, 5)
        let ts = (0..<2000).map { Int64($0) * 300_000 }
        let vs = (0..<2000).map { $0 == 1500 ? 50.0 : sin(Double($0) / 20) }
        let scores = try engine.detectAnomalies(timestamps: ts, values: vs)
        XCTAssertGreaterThan(scores[1500..<1506].max()!, 0.5)
        let hinted = try engine.detectAnomalies(
            timestamps: ts, values: vs, range: ValueRange(min: vs.min()!, max: vs.max()!))
        XCTAssertGreaterThan(hinted[1500..<1506].max()!, 0.5)
        XCTAssertThrowsError(try engine.detectAnomalies(
            timestamps: ts, values: vs, range: ValueRange(min: 1, max: 1))) { err in
            guard case HxbError.InvalidInput = err else { return XCTFail("\(err)") }
        }
        XCTAssertThrowsError(try engine.detectAnomalies(timestamps: [0, 1], values: [1, .nan])) { err in
            guard case HxbError.InvalidInput = err else { return XCTFail("\(err)") }
        }
        XCTAssertThrowsError(try engine.detectAnomalies(timestamps: [1, 0], values: [1, 1])) { err in
            guard case HxbError.InvalidInput = err else { return XCTFail("\(err)") }
        }
    }
}


final class TenancyTests: XCTestCase {
    private func tenant() async throws -> Engine {
        let engine = try Engine.embedded()
        _ = try await engine.createOrganization(name: "acme", plan: "starter")
        _ = try await engine.createWorkspace(org: "acme", name: "dev")
        _ = try await engine.createProject(org: "acme", workspace: "dev", name: "web")
        return engine
    }

    private func object(_ json: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    }

    func testMembersInvitationsAndKubeconfig() async throws {
        let engine = try await tenant()
        defer { engine.close() }
        _ = try await engine.addMember(org: "acme", subject: "alice@example.com", role: "developer", workspace: "dev")
        let before = try await engine.members(org: "acme")
        do {
            _ = try await engine.addMember(org: "acme", subject: "bob@example.com", role: "emperor", workspace: "dev")
            XCTFail("an unknown role was accepted")
        } catch HxbError.InvalidInput {}
        let after = try await engine.members(org: "acme")
        XCTAssertEqual(after, before)
        let invitation = try object(try await engine.invite(
            org: "acme", subject: "carol@example.com", role: "member", validForSeconds: 3600))
        let member = try object(try await engine.acceptInvitation(token: invitation["token"] as! String))
        XCTAssertEqual(member["subject"] as? String, "carol@example.com")
        // The embedded cluster issues no ServiceAccount tokens: retryable until one exists.
        do {
            _ = try await engine.scopedKubeconfig(org: "acme", workspace: "dev", subject: "alice@example.com")
            XCTFail("a kubeconfig without a token")
        } catch HxbError.Unavailable {}
        for text in try await engine.list(kind: "Secret", namespace: "acme-dev-web") {
            var secret = try object(text)
            if secret["type"] as? String == "kubernetes.io/service-account-token" {
                secret["data"] = ["token": "dG9rLTEyMw=="]
                let data = try JSONSerialization.data(withJSONObject: secret)
                _ = try await engine.apply(manifestJson: String(decoding: data, as: UTF8.self))
            }
        }
        let kubeconfig = try await engine.scopedKubeconfig(org: "acme", workspace: "dev", subject: "alice@example.com")
        XCTAssertTrue(kubeconfig.contains("kind: Config"))
        do {
            _ = try await engine.scopedKubeconfig(org: "acme", workspace: "dev", subject: "mallory@example.com")
            XCTFail("a non-member got a kubeconfig")
        } catch HxbError.Forbidden {}
        try await engine.removeMember(org: "acme", subject: "alice@example.com", workspace: "dev")
        let members = try await engine.members(org: "acme")
        XCTAssertEqual(members.count, 1)
    }

    func testEntitiesAppLifecycleUsageReconcile() async throws {
        let engine = try await tenant()
        defer { engine.close() }
        let organizations = try await engine.listOrganizations()
        XCTAssertEqual(organizations.count, 1)
        _ = try await engine.createApp(org: "acme", workspace: "dev", project: "web", name: "api",
                                       spec: AppSpec(image: "nginx", replicas: 1))
        let scaled = try object(try await engine.scaleApp(org: "acme", workspace: "dev", project: "web", name: "api", replicas: 2))
        XCTAssertEqual(scaled["replicas"] as? Int, 2)
        do {
            _ = try await engine.scaleApp(org: "acme", workspace: "dev", project: "web", name: "api", replicas: -1)
            XCTFail("a negative replica count was accepted")
        } catch HxbError.InvalidInput {}
        _ = try await engine.stopApp(org: "acme", workspace: "dev", project: "web", name: "api")
        _ = try await engine.startApp(org: "acme", workspace: "dev", project: "web", name: "api")
        _ = try await engine.restartApp(org: "acme", workspace: "dev", project: "web", name: "api")
        try await engine.deleteApp(org: "acme", workspace: "dev", project: "web", name: "api")
        let apps = try await engine.listApps(org: "acme", workspace: "dev", project: "web")
        XCTAssertTrue(apps.isEmpty)
        _ = try await engine.recordUsage()
        let usage = try object(try await engine.usage(org: "acme", from: Date(timeIntervalSince1970: 1_767_225_600), to: Date(timeIntervalSince1970: 1_767_312_000)))
        XCTAssertNotNil(usage["cost"])
        let report = try object(try await engine.reconcile())
        XCTAssertEqual(report["writes"] as? Int, 0)
        do {
            _ = try await engine.deleteOrganization(name: "acme")
            XCTFail("a non-empty organization was deleted without cascade")
        } catch HxbError.FailedPrecondition {}
        let deleted = try await engine.deleteOrganization(name: "acme", cascade: true)
        XCTAssertTrue(deleted)
        do {
            _ = try await engine.getOrganization(name: "acme")
            XCTFail("a deleted organization was found")
        } catch HxbError.NotFound {}
    }
}
