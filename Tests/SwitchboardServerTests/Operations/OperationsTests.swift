import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// `/healthz`, `/readyz` and `/metrics` over real sockets.
@Suite("Operations endpoints")
struct OperationsTests {
    @Test("Probes answer 200 without a key", arguments: ["/healthz", "/readyz", "/metrics"])
    func probesNeedNoKey(path: String) async throws {
        try await TestServer.with { server in
            let response = try await TestHTTP.anonymous(server).request("GET", path)
            #expect(response.status == 200, "body: \(response.body)")
        }
    }

    @Test("/healthz and /readyz answer JSON")
    func healthAndReadiness() async throws {
        try await TestServer.with { server in
            let http = TestHTTP.anonymous(server)
            let health = try await http.request("GET", "/healthz")
            #expect(health.headers["content-type"]?.hasPrefix("application/json") == true)
            #expect(try health.json["status"]?.stringValue == "ok")
            let ready = try await http.request("GET", "/readyz")
            #expect(try ready.json["status"]?.stringValue == "ready")
        }
    }

    @Test("/metrics is Prometheus text counting published events and open connections")
    func metricsCountPublishes() async throws {
        try await TestServer.with { server in
            let anonymous = TestHTTP.anonymous(server)
            #expect(try await anonymous.metric("switchboard_events_published_total") == 0)
            try await TestHTTP(server).publish("orders")
            let batch = #"{"events":[{"channel":"a","type":"t","data":1},{"channel":"b","type":"t","data":2}]}"#
            #expect(try await TestHTTP(server).request("POST", "/v1/events", body: batch).status == 201)

            let response = try await anonymous.request("GET", "/metrics")
            #expect(response.headers["content-type"]?.hasPrefix("text/plain") == true)
            #expect(response.body.contains("# TYPE switchboard_events_published_total counter"))
            #expect(try await anonymous.metric("switchboard_events_published_total") == 3)
            #expect(response.body.contains("switchboard_connections"))
            #expect(try await anonymous.metric(#"switchboard_connections{transport="websocket"}"#) == 0)
            #expect(try await anonymous.metric(#"switchboard_connections{transport="sse"}"#) == 0)
        }
    }

    @Test("When configured, /metrics needs an admin key while the probes stay open")
    func metricsCanRequireKey() async throws {
        try await TestServer.with(configure: { $0.metricsRequireKey = true }) { server in
            let anonymous = TestHTTP.anonymous(server)
            try await anonymous.request("GET", "/metrics").expectProblem("unauthorized")
            #expect(try await anonymous.request("GET", "/healthz").status == 200)
            #expect(try await anonymous.request("GET", "/readyz").status == 200)
            #expect(try await TestHTTP(server).request("GET", "/metrics").status == 200)
        }
    }

    @Test("An unknown route is a not_found problem")
    func unknownRoute() async throws {
        try await TestServer.with { server in
            try await TestHTTP(server).request("GET", "/v1/nothing-here").expectProblem("not_found")
        }
    }
}
