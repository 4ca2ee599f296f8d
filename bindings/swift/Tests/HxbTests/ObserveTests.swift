// Events, alerts, incidents, function invocation and logs through the generated Swift API —
// each with its bad input, which is typed and changes nothing.
import Foundation
import XCTest

@testable import Hxb

final class ObserveTests: XCTestCase {
    private func object(_ json: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
    }

    private func signal(_ reason: String, scope: String = "acme/dev") -> String {
        #"{"scope":"\#(scope)","object":"Deployment acme-dev-web/web","kind":{"type":"event","reason":"\#(reason)"}}"#
    }

    func testEventsArriveAsJsonAndEndWhenTheEngineCloses() async throws {
        let engine = try Engine.embedded()
        let subscription = engine.subscribe()
        _ = try await engine.createOrganization(name: "acme")
        let first = try object(try await subscription.next()!)
        XCTAssertEqual(first["type"] as? String, "status_changed")
        XCTAssertEqual(first["to"] as? String, "Pending")
        subscription.close()
        XCTAssertTrue(subscription.isClosed())
        let afterClose = try await subscription.next()
        XCTAssertNil(afterClose)

        let lagging = engine.subscribe()
        for i in 0..<(1024 + 2) {  // one incident per workspace: two more than the bus holds
            _ = try engine.recordSignal(signalJson: signal("BackOff", scope: "acme/w\(i)"))
        }
        let lagged = try object(try await lagging.next()!)
        XCTAssertEqual(lagged["type"] as? String, "lagged")
        XCTAssertEqual(lagged["missed"] as? Int, 2)

        let idle = engine.subscribe()
        engine.close()
        let end = try await idle.next()
        XCTAssertNil(end)
    }

    func testAlertRulesHealthAndBadRules() async throws {
        let engine = try Engine.embedded()
        defer { engine.close() }
        let rule = try object(try await engine.addAlertRule(
            scope: "acme/dev",
            ruleJson: #"{"name":"HighCpu","query":"cpu_usage","comparison":">","threshold":0.9,"for":"5m","severity":"critical"}"#))
        XCTAssertEqual(rule["comparison"] as? String, "above")
        XCTAssertEqual(rule["for"] as? String, "300s")
        let rules = try await engine.alertRules(scope: "acme/dev")
        XCTAssertEqual(rules.count, 1)
        let evaluation = try object(try await engine.evaluateAlerts())
        XCTAssertEqual((evaluation["fired"] as? [Any])?.count, 0)
        let alerts = try await engine.alerts()
        XCTAssertTrue(alerts.isEmpty)
        let health = try object(try await engine.health(scope: "acme"))
        XCTAssertEqual(health["health"] as? String, "healthy")
        for (scope, bad) in [
            ("acme/dev", #"{"name":"x","query":"rate(("}"#),
            ("acme/dev", #"{"name":"x","query":"up","for":"soon"}"#),
            ("acme/dev", #"{"name":"x","query":"up","colour":"red"}"#),
            ("acme/dev", "not json"),
            ("Acme/dev", #"{"name":"x","query":"up"}"#),
        ] {
            do {
                _ = try await engine.addAlertRule(scope: scope, ruleJson: bad)
                XCTFail("accepted \(bad) in \(scope)")
            } catch HxbError.InvalidInput {}
        }
        do {
            try await engine.removeAlertRule(scope: "acme/dev", name: "ghost")
            XCTFail("removed a rule that does not exist")
        } catch HxbError.NotFound {}
        do {
            _ = try await engine.acknowledgeAlert(id: "acme/dev/HighCpu{}", who: "alice@example.com")
            XCTFail("acknowledged an alert that does not exist")
        } catch HxbError.NotFound {}
        let unchanged = try await engine.alertRules(scope: "acme/dev")
        XCTAssertEqual(unchanged, rules)
        try await engine.removeAlertRule(scope: "acme/dev", name: "HighCpu")
        let none = try await engine.alertRules(scope: "acme/dev")
        XCTAssertTrue(none.isEmpty)
    }

    func testSignalsGroupIntoIncidentsAndBadSignalsChangeNothing() throws {
        let engine = try Engine.embedded()
        defer { engine.close() }
        let first = try object(try engine.recordSignal(signalJson: signal("OOMKilled")))
        let second = try object(try engine.recordSignal(signalJson: signal("BackOff")))
        XCTAssertEqual(first["id"] as? Int, 1)
        XCTAssertEqual(second["id"] as? Int, 1)
        XCTAssertEqual((second["signals"] as? [Any])?.count, 2)
        for bad in [signal("x", scope: ""), #"{"scope":"acme/dev"}"#, "[]", "nope"] {
            XCTAssertThrowsError(try engine.recordSignal(signalJson: bad)) { err in
                guard case HxbError.InvalidInput = err else { return XCTFail("\(err)") }
            }
        }
        XCTAssertEqual(try engine.incidents().count, 1)
        XCTAssertTrue(try engine.closeIdleIncidents().isEmpty)
    }

    // A function needs an in-process image handler on the embedded cluster, which Swift cannot
    // register; the answering path is tested in Rust (bindings/common observe tests).
    func testInvokeAndLogsErrorsAreTyped() async throws {
        let engine = try Engine.embedded()
        defer { engine.close() }
        _ = try await engine.createOrganization(name: "acme")
        _ = try await engine.createWorkspace(org: "acme", name: "dev")
        _ = try await engine.createProject(org: "acme", workspace: "dev", name: "web")
        do {
            _ = try await engine.invokeFunction(org: "acme", workspace: "dev", project: "web", name: "ghost",
                                                payload: Data("hi".utf8))
            XCTFail("invoked a function that does not exist")
        } catch HxbError.NotFound {}
        do {
            _ = try await engine.invokeFunction(org: "acme", workspace: "dev", project: "web", name: "ghost",
                                                payload: Data(), method: "FETCH")
            XCTFail("accepted a bad method")
        } catch HxbError.InvalidInput {}
        let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"acme-dev-web"},"spec":{"containers":[{"name":"c","image":"x"}]}}"#
        _ = try await engine.apply(manifestJson: pod)
        let text = try await engine.logs(namespace: "acme-dev-web", pod: "p", tailLines: 3)
        XCTAssertEqual(text, "")
        do {
            _ = try await engine.logs(namespace: "acme-dev-web", pod: "ghost")
            XCTFail("read the log of a pod that does not exist")
        } catch HxbError.NotFound {}
        do {
            _ = try await engine.logs(namespace: "acme-dev-web", pod: "p", tailLines: -1)
            XCTFail("accepted a negative line count")
        } catch HxbError.InvalidInput {}
    }
}
