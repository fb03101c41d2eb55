import Foundation
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// What a graceful restart on the same data keeps.
@Suite("Restarting the server")
struct RestartTests {
    @Test("Events survive a restart: history is intact and offsets continue")
    func eventsSurvive() async throws {
        try await TestServer.with { server in
            var http = TestHTTP(server)
            for n in 1...3 { try await http.publish("orders", type: "order.t\(n)", data: #"{"n":\#(n)}"#) }
            try await http.publish("chat:1")
            let ordersBefore = try await http.historyPage("orders")
            let chatBefore = try await http.historyPage("chat:1")

            try await server.restart()
            http = TestHTTP(server)

            #expect(try await http.historyPage("orders") == ordersBefore)
            #expect(try await http.historyPage("chat:1") == chatBefore)
            #expect(try await http.publish("orders")["offset"]?.intValue == 4)
            #expect(try await http.publish("chat:1")["offset"]?.intValue == 2)
            #expect(try await http.storedEvents("orders").compactMap { $0["offset"]?.intValue } == [1, 2, 3, 4])
        }
    }

    @Test("The admin key from the first start still works after a restart, and no new key is made")
    func adminKeySurvives() async throws {
        try await TestServer.with { server in
            let key = server.adminKey
            let path = server.dataDirectory + "/admin.key"
            let fileBefore = try String(contentsOfFile: path, encoding: .utf8)

            try await server.restart()

            #expect(try String(contentsOfFile: path, encoding: .utf8) == fileBefore)
            #expect(server.adminKey == key)
            let http = TestHTTP(baseURL: server.baseURL, key: key)
            #expect(try await http.publish("orders")["offset"]?.intValue == 1)
        }
    }

    @Test("An Idempotency-Key seen before a restart still replays after it")
    func idempotencySurvives() async throws {
        try await TestServer.with { server in
            let body = #"{"type":"order.created","data":{}}"#
            let headers = ["Idempotency-Key": "order-7-created"]
            let first = try await TestHTTP(server).request(
                "POST",
                "/v1/channels/orders/events",
                body: body,
                headers: headers
            )
            #expect(first.status == 201)

            try await server.restart()

            let http = TestHTTP(server)
            let again = try await http.request("POST", "/v1/channels/orders/events", body: body, headers: headers)
            #expect(again.status == 200)
            #expect(again.headers["idempotent-replayed"] == "true")
            #expect(try again.json == (try first.json))
            #expect(try await http.storedEvents("orders").count == 1)
        }
    }

    @Test(
        "A restart is not held up by a long-poll in flight: the poll is answered empty and the restart completes",
        .timeLimit(.minutes(3))
    )
    func restartWithLongPollInFlight() async throws {
        // The poll would hold a waiting restart for 10 minutes, past the test's time limit; on a clock that
        // stands still its wait never times out by itself.
        let clock = ManualClock()
        try await TestServer.with(
            configure: { $0.engine.limits.maximumWaitSeconds = 600 },
            ambient: clock.ambient
        ) { server in
            let http = TestHTTP(server)
            async let polled = try? await http.request(
                "GET",
                "/v1/channels/orders/events?after=0&wait=600",
                timeout: 900
            )
            // Restart only once the poll is waiting in the server: its deadline is set.
            await clock.waitForDeadline(.longPoll)
            try await server.restart()
            let answer = await polled
            #expect(answer?.status == 200, "the poll got \(String(describing: answer))")
            #expect(try answer?.json["events"]?.arrayValue?.isEmpty == true)
            #expect(try await TestHTTP(server).publish("orders")["offset"]?.intValue == 1)
        }
    }

    @Test("Several restarts in a row keep every event")
    func repeatedRestarts() async throws {
        try await TestServer.with { server in
            for round in 1...3 {
                #expect(try await TestHTTP(server).publish("orders")["offset"]?.intValue == Int64(round))
                try await server.restart()
            }
            #expect(try await TestHTTP(server).storedEvents("orders").count == 3)
        }
    }
}
