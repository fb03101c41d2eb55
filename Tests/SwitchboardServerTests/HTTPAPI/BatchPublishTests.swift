import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// `POST /v1/events` over real sockets.
@Suite("Publishing a batch over HTTP")
struct BatchPublishTests {
    private static func item(_ channel: String, _ type: String = "t", data: String = "{}") -> String {
        #"{"channel":"\#(channel)","type":"\#(type)","data":\#(data)}"#
    }

    private static func batch(_ items: [String]) -> String {
        #"{"events":[\#(items.joined(separator: ","))]}"#
    }

    @Test("A batch answers 201 with one receipt per event, in request order, and stores them all")
    func receiptsInRequestOrder() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let channels = ["orders", "chat:1", "orders", "billing", "orders"]
            var items = channels.enumerated().map { index, channel in
                Self.item(channel, "t\(index)", data: #"{"n":\#(index)}"#)
            }
            items.append(#"{"channel":"orders","type":"t5","data":{"n":5},"id":"batch-item-5"}"#)
            let response = try await http.request("POST", "/v1/events", body: Self.batch(items))
            #expect(response.status == 201, "body: \(response.body)")
            let receipts = try #require(try response.json["events"]?.arrayValue)
            try #require(receipts.count == 6)

            let expected: [(channel: String, offset: Int64)] = [
                ("orders", 1), ("chat:1", 1), ("orders", 2), ("billing", 1), ("orders", 3), ("orders", 4),
            ]
            for (receipt, expected) in zip(receipts, expected) {
                #expect(receipt.memberNameList.sorted() == ["channel", "id", "offset", "time"])
                #expect(receipt["channel"]?.stringValue == expected.channel)
                #expect(receipt["offset"]?.intValue == expected.offset)
                #expect(isProtocolTime(receipt["time"]?.stringValue))
            }
            #expect(receipts[0..<5].allSatisfy { $0["id"]?.stringValue?.hasPrefix("evt_") == true })
            #expect(receipts[5]["id"]?.stringValue == "batch-item-5")

            let orders = try await http.storedEvents("orders")
            #expect(orders.map { $0["type"]?.stringValue } == ["t0", "t2", "t4", "t5"])
            #expect(orders.map { $0["id"] } == [receipts[0], receipts[2], receipts[4], receipts[5]].map { $0["id"] })
            #expect(try await http.storedEvents("chat:1").count == 1)
            #expect(try await http.storedEvents("billing").count == 1)
            #expect(try await http.publishedTotal() == 6)
        }
    }

    @Test("A batch of exactly 1000 events is accepted")
    func largestBatch() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let items = Array(repeating: Self.item("orders"), count: 1000)
            let response = try await http.request("POST", "/v1/events", body: Self.batch(items))
            #expect(response.status == 201)
            let receipts = try response.json["events"]?.arrayValue ?? []
            #expect(receipts.map { $0["offset"]?.intValue } == (1...1000).map { Int64($0) })
        }
    }

    @Test("The same id twice in one batch stores one event; both receipts name it")
    func duplicateIDInBatch() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let item = #"{"channel":"orders","type":"t","data":{},"id":"dup-1"}"#
            let response = try await http.request(
                "POST",
                "/v1/events",
                body: Self.batch([item, Self.item("orders"), item])
            )
            #expect(response.status == 201, "body: \(response.body)")
            let receipts = try response.json["events"]?.arrayValue ?? []
            try #require(receipts.count == 3)
            #expect(receipts[0] == receipts[2])
            #expect(receipts[0]["id"]?.stringValue == "dup-1")
            #expect(receipts[1]["offset"]?.intValue == 2)
            #expect(try await http.storedEvents("orders").count == 2)
        }
    }

    @Test("One id on two channels in one batch is a conflict naming the second item, and nothing is stored")
    func sameIDOnTwoChannels() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let response = try await http.request(
                "POST",
                "/v1/events",
                body: Self.batch([
                    #"{"channel":"a","type":"t","data":1,"id":"k"}"#,
                    #"{"channel":"b","type":"t","data":2,"id":"k"}"#,
                ])
            )
            let problem = response.expectProblem("conflict")
            #expect(problem?["index"]?.intValue == 1)
            #expect(try await http.storedEvents("a").isEmpty)
            #expect(try await http.storedEvents("b").isEmpty)
        }
    }

    @Test("Publishing a batch again with the same ids stores nothing new and returns the original receipts")
    func batchReplay() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let body = Self.batch([
                #"{"channel":"orders","type":"t","data":1,"id":"b-1"}"#,
                #"{"channel":"chat:1","type":"t","data":2,"id":"b-2"}"#,
            ])
            let first = try await http.request("POST", "/v1/events", body: body)
            #expect(first.status == 201)
            let again = try await http.request("POST", "/v1/events", body: body)
            #expect(again.status == 200 || again.status == 201)
            #expect(try again.json == (try first.json))
            #expect(try await http.publishedTotal() == 2)
        }
    }

    /// A batch whose item at index 2 is bad.
    struct BadItem: Sendable, CustomTestStringConvertible {
        let name: String
        let item: String
        let code: String

        var testDescription: String { name }
    }

    static let badItems: [BadItem] = [
        BadItem(name: "missing channel", item: #"{"type":"t","data":{}}"#, code: "invalid_channel"),
        BadItem(name: "bad channel", item: #"{"channel":"a b","type":"t","data":{}}"#, code: "invalid_channel"),
        BadItem(name: "channel with @", item: #"{"channel":"orders@4","type":"t","data":{}}"#, code: "invalid_channel"),
        BadItem(name: "$system channel", item: #"{"channel":"$system","type":"t","data":{}}"#, code: "forbidden"),
        BadItem(name: "missing type", item: #"{"channel":"orders","data":{}}"#, code: "invalid_type"),
        BadItem(name: "bad type", item: #"{"channel":"orders","type":"a b","data":{}}"#, code: "invalid_type"),
        BadItem(name: "missing data", item: #"{"channel":"orders","type":"t"}"#, code: "bad_request"),
        BadItem(
            name: "id not a string",
            item: #"{"channel":"orders","type":"t","data":{},"id":1}"#,
            code: "bad_request"
        ),
        BadItem(name: "item not an object", item: #""orders""#, code: "bad_request"),
        BadItem(
            name: "data over 64 KiB",
            item: #"{"channel":"orders","type":"t","data":"\#(String(repeating: "x", count: 64 * 1024))"}"#,
            code: "too_large"
        ),
    ]

    @Test("One bad item fails the whole batch with its error and index, and nothing is stored", arguments: badItems)
    func badItemFailsBatch(_ bad: BadItem) async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let items = [Self.item("orders"), Self.item("chat:1"), bad.item, Self.item("orders")]
            let response = try await http.request("POST", "/v1/events", body: Self.batch(items))
            let problem = response.expectProblem(bad.code)
            #expect(problem?["index"]?.intValue == 2)

            #expect(try await http.publishedTotal() == 0)
            #expect(try await http.storedEvents("orders").isEmpty)
            #expect(try await http.storedEvents("chat:1").isEmpty)
        }
    }

    @Test("The first bad item is the one named when several are bad")
    func firstBadItemNamed() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let items = [Self.item("orders"), Self.item("orders", "bad type"), Self.item("$system")]
            let response = try await http.request("POST", "/v1/events", body: Self.batch(items))
            #expect(response.expectProblem("invalid_type")?["index"]?.intValue == 1)
            #expect(try await http.publishedTotal() == 0)
        }
    }

    /// A batch body refused as a whole.
    struct BadBatch: Sendable, CustomTestStringConvertible {
        let name: String
        let body: String

        var testDescription: String { name }
    }

    static let badBatches: [BadBatch] = [
        BadBatch(name: "1001 events", body: batch(Array(repeating: item("orders"), count: 1001))),
        BadBatch(name: "no events", body: #"{"events":[]}"#),
        BadBatch(name: "events missing", body: #"{"channel":"orders","type":"t","data":{}}"#),
        BadBatch(name: "events not an array", body: #"{"events":{"channel":"orders","type":"t","data":{}}}"#),
        BadBatch(name: "body an array", body: "[\(item("orders"))]"),
        BadBatch(name: "malformed JSON", body: #"{"events":["#),
    ]

    @Test(
        "A batch that is not {\"events\":[1…1000 items]} is refused as bad_request, nothing stored",
        arguments: badBatches
    )
    func badBatchRefused(_ bad: BadBatch) async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let response = try await http.request("POST", "/v1/events", body: bad.body)
            let problem = response.expectProblem("bad_request")
            #expect(problem?["index"] == nil)
            #expect(try await http.publishedTotal() == 0)
            #expect(try await http.storedEvents("orders").isEmpty)
        }
    }

    @Test("A batch without a key is refused as unauthorized, nothing stored")
    func batchNeedsKey() async throws {
        try await TestServer.with { server in
            let response = try await TestHTTP.anonymous(server).request(
                "POST",
                "/v1/events",
                body: Self.batch([Self.item("orders")])
            )
            response.expectProblem("unauthorized")
            #expect(try await TestHTTP(server).storedEvents("orders").isEmpty)
        }
    }
}
