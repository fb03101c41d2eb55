import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// `GET /v1/channels/{channel}/events` (history pages and long-poll) over real sockets.
@Suite("History and long-poll over HTTP", .timeLimit(.minutes(5)))
struct HistoryLongPollTests {
    @Test("History pages with after, limit and next until the reader has every event, in order")
    func paging() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            var ids: [String] = []
            for n in 1...5 {
                ids.append(
                    try await http.publish("orders", type: "order.t\(n)", data: #"{"n":\#(n)}"#)["id"]?.stringValue
                        ?? ""
                )
            }
            try await http.publish("chat:1")

            var after: Int64 = 0
            var pages: [[Int64]] = []
            var seen: [JSONValue] = []
            while pages.count < 10 {
                let page = try await http.historyPage("orders", query: "after=\(after)&limit=2")
                #expect(page.memberNameList.sorted() == ["channel", "earliest", "events", "head", "next", "truncated"])
                #expect(page["channel"]?.stringValue == "orders")
                #expect(page["earliest"]?.intValue == 1)
                #expect(page["truncated"]?.boolValue == false)
                let events = page["events"]?.arrayValue ?? []
                let next = try #require(page["next"]?.intValue)
                if events.isEmpty {
                    #expect(next == after)
                    break
                }
                #expect(next == events.last?["offset"]?.intValue)
                pages.append(events.compactMap { $0["offset"]?.intValue })
                seen += events
                after = next
            }
            #expect(pages == [[1, 2], [3, 4], [5]])
            #expect(seen.map { $0["id"]?.stringValue ?? "" } == ids)
            for (index, event) in seen.enumerated() {
                #expect(event.memberNameList.sorted() == ["channel", "data", "id", "offset", "time", "type"])
                #expect(event["channel"]?.stringValue == "orders")
                #expect(event["type"]?.stringValue == "order.t\(index + 1)")
                #expect(event["data"] == .object([("n", .int(Int64(index + 1)))]))
                #expect(isProtocolTime(event["time"]?.stringValue))
            }
        }
    }

    @Test("Without after and limit, history starts at the beginning")
    func defaults() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            for _ in 1...3 { try await http.publish("orders") }
            let page = try await http.historyPage("orders")
            #expect(page["events"]?.arrayValue?.compactMap { $0["offset"]?.intValue } == [1, 2, 3])
            #expect(page["next"]?.intValue == 3)
        }
    }

    @Test("A channel nothing was published to has an empty history at next 0")
    func emptyChannel() async throws {
        try await TestServer.with { server in
            let page = try await TestHTTP(server).historyPage("never:used")
            #expect(page["events"]?.arrayValue?.isEmpty == true)
            #expect(page["next"]?.intValue == 0)
            #expect(page["truncated"]?.boolValue == false)
        }
    }

    @Test("The server caps a page at its own limit; the reader pages on with next")
    func serverCapsPage() async throws {
        try await TestServer.with(configure: { $0.engine.limits.maximumHistoryPage = 3 }) { server in
            let http = TestHTTP(server)
            for _ in 1...5 { try await http.publish("orders") }
            let first = try await http.historyPage("orders", query: "after=0&limit=100")
            #expect(first["events"]?.arrayValue?.count == 3)
            #expect(first["next"]?.intValue == 3)
            let second = try await http.historyPage("orders", query: "after=3&limit=100")
            #expect(second["events"]?.arrayValue?.compactMap { $0["offset"]?.intValue } == [4, 5])
        }
    }

    // The long-poll tests run on a `ManualClock`: a wait ends only when its event arrives or when the
    // test moves the clock past it, so "answers at once" and "wakes on the event" are facts, not
    // timings (a reply that waited for the deadline would never come, and the time limit fails it).

    @Test("A cursor beyond the channel's head is reported as truncated and the reply starts at the earliest event")
    func cursorBeyondHead() async throws {
        try await TestServer.with(ambient: ManualClock().ambient) { server in
            let http = TestHTTP(server)
            for _ in 1...2 { try await http.publish("orders") }
            let page = try await http.historyPage("orders", query: "after=99&wait=10")
            #expect(page["truncated"]?.boolValue == true)
            #expect(page["events"]?.arrayValue?.compactMap { $0["offset"]?.intValue } == [1, 2])
            #expect(page["next"]?.intValue == 2)
        }
    }

    @Test("A long-poll returns the event published while it waits")
    func longPollWakes() async throws {
        let clock = ManualClock()
        try await TestServer.with(ambient: clock.ambient) { server in
            let http = TestHTTP(server)
            try await http.publish("orders", type: "first")
            async let polled = http.request("GET", "/v1/channels/orders/events?after=1&wait=10")
            await clock.waitForDeadline(.longPoll)
            let receipt = try await http.publish("orders", type: "second", data: #"{"n":2}"#)
            let response = try await polled

            #expect(response.status == 200)
            let page = try response.json
            let events = page["events"]?.arrayValue ?? []
            #expect(events.count == 1)
            #expect(events.first?["id"] == receipt["id"])
            #expect(events.first?["offset"]?.intValue == 2)
            #expect(events.first?["type"]?.stringValue == "second")
            #expect(events.first?["data"] == .object([("n", .int(2))]))
            #expect(page["next"]?.intValue == 2)
        }
    }

    @Test("A long-poll with events already after its cursor answers at once")
    func longPollWithBacklog() async throws {
        try await TestServer.with(ambient: ManualClock().ambient) { server in
            let http = TestHTTP(server)
            for _ in 1...2 { try await http.publish("orders") }
            let page = try await http.historyPage("orders", query: "after=0&wait=10")
            #expect(page["events"]?.arrayValue?.count == 2)
        }
    }

    @Test("A long-poll with nothing published returns no events when the wait ends")
    func longPollTimesOut() async throws {
        let clock = ManualClock()
        try await TestServer.with(ambient: clock.ambient) { server in
            let http = TestHTTP(server)
            try await http.publish("orders")
            async let polled = http.historyPage("orders", query: "after=1&wait=1")
            await clock.waitForDeadline(.longPoll)
            await clock.advance(by: .seconds(1))
            let page = try await polled
            #expect(page["events"]?.arrayValue?.isEmpty == true)
            #expect(page["next"]?.intValue == 1)
            #expect(page["truncated"]?.boolValue == false)
        }
    }

    @Test("A long-poll is not woken by events on another channel")
    func longPollIgnoresOtherChannels() async throws {
        let clock = ManualClock()
        try await TestServer.with(ambient: clock.ambient) { server in
            let http = TestHTTP(server)
            async let polled = http.historyPage("orders", query: "after=0&wait=1")
            await clock.waitForDeadline(.longPoll)
            try await http.publish("orders:eu")
            try await http.publish("chat:1")
            await clock.advance(by: .seconds(1))
            let page = try await polled
            #expect(page["events"]?.arrayValue?.isEmpty == true)
            #expect(page["next"]?.intValue == 0)
        }
    }

    @Test(
        "Bad after, limit or wait is refused as bad_request",
        arguments: [
            "after=-1", "after=abc", "after=1.5", "after=", "limit=0", "limit=-5", "limit=ten", "wait=-1", "wait=61",
            "wait=1.5", "wait=soon",
        ]
    )
    func badQuery(query: String) async throws {
        try await TestServer.with { server in
            let response = try await TestHTTP(server).request("GET", "/v1/channels/orders/events?\(query)")
            response.expectProblem("bad_request")
        }
    }

    @Test("Reading history needs a key (without --dev) and a valid channel name")
    func historyRefusals() async throws {
        try await TestServer.with { server in
            try await TestHTTP.anonymous(server).request("GET", "/v1/channels/orders/events")
                .expectProblem("unauthorized")
            try await TestHTTP.anonymous(server).request("GET", "/v1/channels/orders/events?wait=5")
                .expectProblem("unauthorized")
            try await TestHTTP(server).request("GET", "/v1/channels/orders@1/events").expectProblem("invalid_channel")
        }
    }

    @Test("In development mode history needs no key")
    func developmentModeHistory() async throws {
        try await TestServer.with(configure: { $0.engine.isDevelopmentMode = true }) { server in
            try await TestHTTP(server).publish("orders")
            let response = try await TestHTTP.anonymous(server).request("GET", "/v1/channels/orders/events")
            #expect(response.status == 200)
            #expect(try response.json["events"]?.arrayValue?.count == 1)
        }
    }
}
