import Foundation
import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

/// `POST /v1/channels/{channel}/events` over real sockets.
@Suite("Publishing one event over HTTP")
struct PublishTests {
    @Test("A publish answers 201 with the receipt {id evt_…, channel, offset, time} and stores the event")
    func receiptShape() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let before = Date()
            let response = try await http.request(
                "POST",
                "/v1/channels/orders/events",
                body: #"{"type":"order.created","data":{"total":12.5,"items":[1,2]}}"#
            )
            #expect(response.status == 201, "body: \(response.body)")
            #expect(response.headers["content-type"]?.hasPrefix("application/json") == true)
            #expect(response.headers["idempotent-replayed"] == nil)
            let receipt = try response.json
            #expect(receipt.memberNameList.sorted() == ["channel", "id", "offset", "time"])
            let id = try #require(receipt["id"]?.stringValue)
            #expect(id.hasPrefix("evt_") && id.count > 4)
            #expect(receipt["channel"]?.stringValue == "orders")
            #expect(receipt["offset"]?.intValue == 1)
            let timeText = receipt["time"]?.stringValue
            #expect(isProtocolTime(timeText), "time: \(timeText ?? "nil")")
            let time = try #require(timeText.flatMap { Timestamp(rfc3339: $0) })
            let seconds = Double(time.millisecondsSinceEpoch) / 1000
            #expect(abs(seconds - before.timeIntervalSince1970) < 60)

            let stored = try await http.storedEvents("orders")
            try #require(stored.count == 1)
            #expect(stored[0]["id"]?.stringValue == id)
            #expect(stored[0]["channel"]?.stringValue == "orders")
            #expect(stored[0]["offset"]?.intValue == 1)
            #expect(stored[0]["type"]?.stringValue == "order.created")
            #expect(stored[0]["time"]?.stringValue == timeText)
            #expect(stored[0]["data"] == (try JSONParser.parse(#"{"total":12.5,"items":[1,2]}"#)))
        }
    }

    @Test("Each publish to a channel takes the next offset and a new id")
    func offsetsIncrease() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            var ids: Set<String> = []
            for expected in Int64(1)...4 {
                let receipt = try await http.publish("orders")
                #expect(receipt["offset"]?.intValue == expected)
                ids.insert(receipt["id"]?.stringValue ?? "")
            }
            #expect(ids.count == 4)
            #expect(try await http.publish("chat:1")["offset"]?.intValue == 1)
        }
    }

    @Test("Concurrent publishes to one channel get offsets 1…N without gaps or duplicates")
    func concurrentPublishes() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let offsets = try await withThrowingTaskGroup(of: Int64.self) { group in
                for n in 0..<40 {
                    group.addTask { try await http.publish("orders", data: "\(n)")["offset"]?.intValue ?? -1 }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(offsets.sorted() == Array(1...40))
            let stored = try await http.storedEvents("orders")
            #expect(stored.compactMap { $0["offset"]?.intValue } == Array(1...40))
            #expect(Set(stored.compactMap { $0["data"]?.intValue }) == Set(0..<40))
        }
    }

    @Test("Data comes back from history exactly as published: nesting, Unicode, escapes, numbers")
    func dataRoundTrip() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let data = #"{"text":"h\u00e9llo 👋 \"q\" \\ \n\t\u0001","n":[0,-7,3.25,1e-7,true,false,null],"o":{"":{}}}"#
            try await http.publish("orders", data: data)
            let stored = try #require(try await http.storedEvents("orders").first)
            #expect(stored["data"] == (try JSONParser.parse(data)))
            #expect(stored["data"]?["text"]?.stringValue == "héllo 👋 \"q\" \\ \n\t\u{01}")
        }
    }

    @Test("A request body over the server's request limit is refused as too_large, nothing stored")
    func requestBodyOverLimit() async throws {
        try await TestServer.with(configure: { $0.engine.limits.maximumRequestBytes = 1024 }) { server in
            let http = TestHTTP(server)
            let body = #"{"type":"t","data":"\#(String(repeating: "x", count: 2048))"}"#
            try await http.request("POST", "/v1/channels/orders/events", body: body).expectProblem("too_large")
            #expect(try await http.storedEvents("orders").isEmpty)
        }
    }

    @Test("A retried publish with the same Idempotency-Key returns the original receipt with 200 and stores once")
    func idempotencyKeyReplays() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let body = #"{"type":"order.created","data":{"n":1}}"#
            let headers = ["Idempotency-Key": "order-1001-created"]
            let first = try await http.request("POST", "/v1/channels/orders/events", body: body, headers: headers)
            #expect(first.status == 201)
            #expect(first.headers["idempotent-replayed"] == nil)

            let second = try await http.request("POST", "/v1/channels/orders/events", body: body, headers: headers)
            #expect(second.status == 200)
            #expect(second.headers["idempotent-replayed"] == "true")
            #expect(try second.json == (try first.json))

            let stored = try await http.storedEvents("orders")
            #expect(stored.count == 1)
            #expect(stored.first?["id"] == (try first.json)["id"])
            #expect(try await http.publishedTotal() == 1)
            #expect(try await http.metric("switchboard_publishes_replayed_total") == 1)
        }
    }

    @Test("An Idempotency-Key already used on another channel is a conflict, and nothing is stored")
    func idempotencyKeyOnAnotherChannel() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let body = #"{"type":"t","data":1}"#
            let headers = ["Idempotency-Key": "shared-key"]
            let first = try await http.request("POST", "/v1/channels/orders/events", body: body, headers: headers)
            #expect(first.status == 201)
            let clash = try await http.request("POST", "/v1/channels/chat/events", body: body, headers: headers)
            _ = clash.expectProblem("conflict")
            #expect(try await http.storedEvents("chat").isEmpty)
            #expect(try await http.storedEvents("orders").count == 1)
        }
    }

    @Test("A body id becomes the event id, and publishing it again replays the original receipt")
    func bodyIDBecomesEventID() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let body = #"{"id":"ord_42-created","type":"order.created","data":{"n":42}}"#
            let first = try await http.request("POST", "/v1/channels/orders/events", body: body)
            #expect(first.status == 201)
            #expect((try first.json)["id"]?.stringValue == "ord_42-created")

            let again = try await http.request("POST", "/v1/channels/orders/events", body: body)
            #expect(again.status == 200)
            #expect(again.headers["idempotent-replayed"] == "true")
            #expect(try again.json == (try first.json))

            let stored = try await http.storedEvents("orders")
            #expect(stored.map { $0["id"]?.stringValue } == ["ord_42-created"])
        }
    }

    @Test("A percent-encoded channel name in the path names the decoded channel (as encodeURIComponent writes it)")
    func percentEncodedChannel() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let response = try await http.request(
                "POST",
                "/v1/channels/chat%3Aroom%3D1/events",
                body: #"{"type":"message","data":{}}"#
            )
            #expect(response.status == 201, "body: \(response.body)")
            #expect(try response.json["channel"]?.stringValue == "chat:room=1")
            #expect(try await http.storedEvents("chat:room=1").count == 1)
            #expect(try await http.storedEvents("chat%3Aroom%3D1").count == 1)

            let system = try await http.request(
                "POST",
                "/v1/channels/%24system/events",
                body: #"{"type":"t","data":1}"#
            )
            system.expectProblem("forbidden")
        }
    }

    @Test("Data of exactly 64 KiB is accepted")
    func dataAtTheLimit() async throws {
        try await TestServer.with { server in
            // A JSON string of 65,534 characters is 65,536 bytes of compact JSON with its quotes.
            let data = "\"" + String(repeating: "x", count: 64 * 1024 - 2) + "\""
            let receipt = try await TestHTTP(server).publish("orders", data: data)
            #expect(receipt["offset"]?.intValue == 1)
        }
    }

    @Test("In development mode a publish needs no key, and $system stays closed")
    func developmentMode() async throws {
        try await TestServer.with(configure: { $0.engine.isDevelopmentMode = true }) { server in
            let anonymous = TestHTTP.anonymous(server)
            let open = try await anonymous.request(
                "POST",
                "/v1/channels/orders/events",
                body: #"{"type":"t","data":1}"#
            )
            #expect(open.status == 201)
            let system = try await anonymous.request(
                "POST",
                "/v1/channels/$system/events",
                body: #"{"type":"t","data":1}"#
            )
            system.expectProblem("forbidden")
        }
    }

    /// Who a request claims to be.
    enum Credential: Sendable {
        case admin
        case none
        case header(String)
    }

    /// A publish that must be refused with `code`, storing nothing.
    struct BadPublish: Sendable, CustomTestStringConvertible {
        let name: String
        var channel = "orders"
        var body = #"{"type":"order.created","data":{}}"#
        var credential = Credential.admin
        var headers: [String: String] = [:]
        let code: String

        var testDescription: String { name }
    }

    static let badPublishes: [BadPublish] = [
        BadPublish(name: "malformed JSON", body: #"{"type":"t","data":"#, code: "bad_request"),
        BadPublish(name: "not JSON at all", body: "type=t", code: "bad_request"),
        BadPublish(name: "an empty body", body: "", code: "bad_request"),
        BadPublish(name: "body is an array", body: #"[{"type":"t","data":1}]"#, code: "bad_request"),
        BadPublish(name: "body is a string", body: #""order.created""#, code: "bad_request"),
        BadPublish(name: "missing type", body: #"{"data":{}}"#, code: "invalid_type"),
        BadPublish(name: "type not a string", body: #"{"type":7,"data":{}}"#, code: "invalid_type"),
        BadPublish(name: "empty type", body: #"{"type":"","data":{}}"#, code: "invalid_type"),
        BadPublish(name: "type with a space", body: #"{"type":"order created","data":{}}"#, code: "invalid_type"),
        BadPublish(name: "type with =", body: #"{"type":"a=b","data":{}}"#, code: "invalid_type"),
        BadPublish(name: "type with /", body: #"{"type":"order/created","data":{}}"#, code: "invalid_type"),
        BadPublish(
            name: "type of 201 characters",
            body: #"{"type":"\#(String(repeating: "t", count: 201))","data":{}}"#,
            code: "invalid_type"
        ),
        BadPublish(name: "missing data", body: #"{"type":"t"}"#, code: "bad_request"),
        BadPublish(name: "id not a string", body: #"{"id":5,"type":"t","data":{}}"#, code: "bad_request"),
        BadPublish(name: "empty id", body: #"{"id":"","type":"t","data":{}}"#, code: "bad_request"),
        BadPublish(
            name: "Idempotency-Key of 201 characters",
            headers: ["Idempotency-Key": String(repeating: "k", count: 201)],
            code: "bad_request"
        ),
        BadPublish(name: "channel with @", channel: "orders@1", code: "invalid_channel"),
        BadPublish(name: "channel with a comma", channel: "orders,chat", code: "invalid_channel"),
        BadPublish(name: "channel with a space", channel: "my%20orders", code: "invalid_channel"),
        BadPublish(
            name: "channel of 201 characters",
            channel: String(repeating: "c", count: 201),
            code: "invalid_channel"
        ),
        BadPublish(name: "$system channel", channel: "$system", code: "forbidden"),
        BadPublish(name: "$presence channel", channel: "$presence:chat", code: "forbidden"),
        BadPublish(
            name: "data over 64 KiB",
            body: #"{"type":"t","data":"\#(String(repeating: "x", count: 64 * 1024 - 1))"}"#,
            code: "too_large"
        ),
        BadPublish(name: "missing key", credential: .none, code: "unauthorized"),
        BadPublish(
            name: "wrong key",
            credential: .header("Bearer sbk_" + String(repeating: "A", count: 40)),
            code: "unauthorized"
        ),
        BadPublish(name: "a bearer that is not a key", credential: .header("Bearer hello"), code: "unauthorized"),
        BadPublish(
            name: "Basic instead of Bearer",
            credential: .header("Basic YWRtaW46YWRtaW4="),
            code: "unauthorized"
        ),
    ]

    @Test("A bad publish gets PROTOCOL.md's problem+json and stores nothing", arguments: badPublishes)
    func badPublishIsRefused(_ bad: BadPublish) async throws {
        try await TestServer.with { server in
            let admin = TestHTTP(server)
            let probe = (try? ChannelName(bad.channel)) != nil ? bad.channel : nil
            var headBefore: JSONValue?
            if let probe { headBefore = try await admin.historyPage(probe)["next"] }

            var headers = bad.headers
            let client: TestHTTP
            switch bad.credential {
            case .admin: client = admin
            case .none: client = TestHTTP.anonymous(server)
            case .header(let value):
                client = TestHTTP.anonymous(server)
                headers["Authorization"] = value
            }
            let response = try await client.request(
                "POST",
                "/v1/channels/\(bad.channel)/events",
                body: bad.body,
                headers: headers
            )
            response.expectProblem(bad.code)

            #expect(try await admin.publishedTotal() == 0)
            if let probe {
                #expect(try await admin.storedEvents(probe).isEmpty)
                #expect(try await admin.historyPage(probe)["next"] == headBefore)
            }
        }
    }
}
