// The hxb story in Swift, on the embedded engine (no cluster, no network).
//
// Add bindings/swift as a package dependency (`.package(path: "../hxb/bindings/swift")`),
// build the native library (`cargo build -p hxb-uniffi`), then `swift run`.
//
// 1. an organization, a workspace and a project (a namespace with the plan's quota),
// 2. deploy an app into it, 3. quota admission refuses what does not fit,
// 4. a scaling recommendation (HPA-exact), 5. anomaly detection on a series,
// 6. a member, an invitation and the member's workspace-scoped kubeconfig; reconcile.
import Foundation
import Hxb

func json(_ object: [String: Any]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
}

@main
struct Quickstart {
    static func main() async throws {
        let engine = try Engine.embedded()
        defer { engine.close() }

        // 1. Organization -> workspace -> project.
        _ = try await engine.createOrganization(name: "acme", plan: "starter", displayName: "Acme")
        _ = try await engine.createWorkspace(org: "acme", name: "dev")
        _ = try await engine.createProject(org: "acme", workspace: "dev", name: "web")
        let namespace = "acme-dev-web"
        print("project acme/dev/web is namespace \(namespace)")

        // 2. Deploy an app.
        _ = try await engine.createApp(
            org: "acme", workspace: "dev", project: "web", name: "api",
            spec: AppSpec(image: "nginx:1.27", replicas: 2, port: 8080, requests: ["cpu": "50m"]))
        print("deployed api in \(namespace)")

        // 3. Quota admission: a pod asking for more than the plan allows is refused.
        do {
            _ = try await engine.create(manifestJson: try json([
                "apiVersion": "v1", "kind": "Pod",
                "metadata": ["name": "batch", "namespace": namespace],
                "spec": ["containers": [["name": "batch", "image": "nginx:1.27",
                                         "resources": ["requests": ["cpu": "400m"]]]]]]))
        } catch let HxbError.QuotaExceeded(message, _, detailsJson) {
            print("refused: \(message)\n\(detailsJson)")
        }

        // 4. Scaling recommendation: the two pods use 40m of their 50m (80 %) against 50 %.
        let rec = try engine.recommendReplicas(request: ReplicaRequest(
            cpuUsage: [0.04, 0.04], cpuRequest: "50m", targetCpuUtilization: 50,
            currentReplicas: 2, maxReplicas: 10))
        print("recommended replicas: \(rec.desiredReplicas) (\(rec.reason))")

        // 5. Anomaly detection on a five-minute series with one spike.
        let timestamps = (0..<2000).map { Int64($0) * 300_000 }
        let values = (0..<2000).map { $0 == 1500 ? 50.0 : sin(Double($0) / 20) }
        let scores = try engine.detectAnomalies(timestamps: timestamps, values: values)
        print("anomalous points: \(scores.indices.filter { scores[$0] > 0.5 })")

        // 6. People: a developer of workspace dev, an invited member, a scoped kubeconfig.
        _ = try await engine.addMember(org: "acme", subject: "alice@example.com", role: "developer", workspace: "dev")
        let invitation = try JSONSerialization.jsonObject(
            with: Data(try await engine.invite(org: "acme", subject: "bob@example.com", role: "member").utf8)
        ) as! [String: Any]
        _ = try await engine.acceptInvitation(token: invitation["token"] as! String)
        let members = try await engine.members(org: "acme")
        print("members: \(members.count)")
        do {
            let kubeconfig = try await engine.scopedKubeconfig(org: "acme", workspace: "dev", subject: "alice@example.com")
            print("alice's kubeconfig: \(kubeconfig.split(separator: "\n").count) lines of YAML")
        } catch let HxbError.Unavailable(message, _, _) {
            // Retryable: no token issued yet (the embedded cluster has no token controller).
            print("alice's kubeconfig: not yet (\(message))")
        }
        let report = try await engine.reconcile()
        print("reconcile: \(report)")
    }
}
