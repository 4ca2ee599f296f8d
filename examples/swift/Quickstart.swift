// The hxb story in Swift, on the embedded engine (no cluster, no network).
//
// Add bindings/swift as a package dependency (`.package(path: "../hxb/bindings/swift")`),
// build the native library (`cargo build -p hxb-uniffi`), then `swift run`.
//
// 1. a tenant's project (today: a namespace with a quota; organizations and workspaces join
//    here when the engine offers them), 2. deploy an app, 3. quota admission refuses what
//    does not fit, 4. (next) a scaling recommendation, 5. (next) anomaly detection.
import Foundation
import Hxb

let project = "acme-web"

func json(_ object: [String: Any]) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
}

func podSpec(_ name: String, cpu: String) -> [String: Any] {
    ["containers": [["name": name, "image": "nginx:1.27",
                     "resources": ["requests": ["cpu": cpu, "memory": "128Mi"]]]]]
}

@main
struct Quickstart {
    static func main() async throws {
        let engine = try Engine.embedded()
        defer { engine.close() }

        // 1. The project and its quota (what a workspace plan hands down to a project).
        _ = try await engine.apply(manifestJson: try json([
            "apiVersion": "v1", "kind": "Namespace", "metadata": ["name": project]]))
        _ = try await engine.apply(manifestJson: try json([
            "apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": ["name": "plan", "namespace": project],
            "spec": ["hard": ["requests.cpu": "2", "requests.memory": "2Gi", "pods": "10"]]]))

        // 2. Deploy an app.
        _ = try await engine.apply(manifestJson: try json([
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "web", "namespace": project],
            "spec": ["replicas": 2, "selector": ["matchLabels": ["app": "web"]],
                     "template": ["metadata": ["labels": ["app": "web"]],
                                  "spec": podSpec("web", cpu: "250m")]]]))
        print("deployed web in \(project)")

        // 3. Quota admission: a pod asking for more than the plan allows is refused.
        do {
            _ = try await engine.create(manifestJson: try json([
                "apiVersion": "v1", "kind": "Pod",
                "metadata": ["name": "batch", "namespace": project],
                "spec": podSpec("batch", cpu: "4")]))
        } catch let HxbError.QuotaExceeded(message, _, detailsJson) {
            print("refused: \(message)\n\(detailsJson)")
        }

        // The same arithmetic without an engine, exact to the nano:
        print("requests add up to \(try sumQuantities(items: ["250m", "250m", "1.5"])) cpu")

        // 4. Scaling recommendation and 5. anomaly detection plug in here as the engine grows.
    }
}
