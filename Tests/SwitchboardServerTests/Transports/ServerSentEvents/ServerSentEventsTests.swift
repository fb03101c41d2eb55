import SwitchboardCore
import SwitchboardServer
import SwitchboardTestSupport
import Testing

@Suite("Server-Sent Events over a real socket")
struct ServerSentEventsTests {
    @Test("A stream over two channels delivers each event with the cursor of all channels as its id")
    func liveStream() async throws {
        try await TestServer.with { server in
            let stream = try await TestSSE.connect(
                port: server.port,
                path: "/v1/sse?channel=orders&channel=chat:1",
                headers: ["Authorization": "Bearer \(server.adminKey)"]
            )
            #expect(stream.status == 200)
            let http = TestHTTP(server)
            try await http.publish("orders", data: "1")
            try await http.publish("chat:1", data: "2")
            try await http.publish("orders", data: "3")
            let first = try #require(await stream.next())
            #expect(first.id == "orders@1,chat:1@0")
            #expect(first.event == nil)
            let event = try JSONParser.parse(first.data)
            #expect(event["channel"] == .string("orders"))
            #expect(event["op"] == nil)
            #expect(await stream.next()?.id == "orders@1,chat:1@1")
            #expect(await stream.next()?.id == "orders@2,chat:1@1")
            await stream.close()
        }
    }

    @Test("A batch committed at once reaches a single-channel stream whole, each event with its own id")
    func batchToLiveStream() async throws {
        try await TestServer.with { server in
            let stream = try await TestSSE.connect(
                port: server.port,
                path: "/v1/sse?channel=orders",
                headers: ["Authorization": "Bearer \(server.adminKey)"]
            )
            let http = TestHTTP(server)
            try await http.publish("orders", data: "0")
            #expect(await stream.next()?.id == "orders@1")
            let items = (1...5).map { #"{"channel":"orders","type":"test","data":\#($0)}"# }
            let response = try await http.request(
                "POST",
                "/v1/events",
                body: #"{"events":[\#(items.joined(separator: ","))]}"#
            )
            #expect(response.status == 201)
            for n in 1...5 {
                let message = try #require(await stream.next())
                #expect(message.id == "orders@\(n + 1)")
                #expect(try JSONParser.parse(message.data)["data"] == .int(Int64(n)))
            }
            try await http.publish("orders", data: "6")
            #expect(await stream.next()?.id == "orders@7")
            await stream.close()
        }
    }

    @Test("Resuming with Last-Event-ID delivers exactly the 100 missed events, in order")
    func resumeWithLastEventID() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let headers = ["Authorization": "Bearer \(server.adminKey)"]
            let stream = try await TestSSE.connect(port: server.port, path: "/v1/sse?channel=orders", headers: headers)
            try await http.publish("orders", data: "0")
            let lastID = try #require(await stream.next()?.id)
            #expect(lastID == "orders@1")
            await stream.close()

            for n in 1...100 { try await http.publish("orders", data: "\(n)") }

            var resumeHeaders = headers
            resumeHeaders["Last-Event-ID"] = lastID
            let resumed = try await TestSSE.connect(
                port: server.port,
                path: "/v1/sse?channel=orders",
                headers: resumeHeaders
            )
            for n in 1...100 {
                let message = try #require(await resumed.next())
                #expect(message.id == "orders@\(n + 1)")
                #expect(try JSONParser.parse(message.data)["data"] == .int(Int64(n)))
            }
            try await http.publish("orders", data: "\"live\"")
            #expect(await resumed.next()?.id == "orders@102")
            await resumed.close()
        }
    }

    @Test("?cursor= resumes like Last-Event-ID")
    func resumeWithCursorParameter() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            for n in 1...3 { try await http.publish("orders", data: "\(n)") }
            let stream = try await TestSSE.connect(
                port: server.port,
                path: "/v1/sse?channel=orders&cursor=orders@1",
                headers: ["Authorization": "Bearer \(server.adminKey)"]
            )
            #expect(await stream.next()?.id == "orders@2")
            #expect(await stream.next()?.id == "orders@3")
            await stream.close()
        }
    }

    @Test(
        "Refused streams get problem+json",
        arguments: [
            ("/v1/sse?channel=orders", false, 401, "unauthorized"),
            ("/v1/sse", true, 400, "bad_request"),
            ("/v1/sse?channel=bad%20name", true, 400, "invalid_channel"),
            ("/v1/sse?channel=orders&cursor=nonsense", true, 400, "bad_request"),
        ]
    )
    func refused(path: String, withKey: Bool, status: Int, code: String) async throws {
        try await TestServer.with { server in
            let headers = withKey ? ["Authorization": "Bearer \(server.adminKey)"] : [:]
            let stream = try await TestSSE.connect(port: server.port, path: path, headers: headers)
            #expect(stream.status == status)
            let body = try JSONParser.parse(await stream.errorBody())
            #expect(body["code"] == .string(code))
            await stream.close()
        }
    }

    @Test("An idle stream gets a ': ping' comment every sse.ping_seconds")
    func pingComments() async throws {
        try await TestServer.with(configure: { $0.serverSentEventsPingSeconds = 1 }) { server in
            let stream = try await TestSSE.connect(
                port: server.port,
                path: "/v1/sse?channel=orders",
                headers: ["Authorization": "Bearer \(server.adminKey)"],
                includeComments: true
            )
            var comments: [String] = []
            while comments.filter({ $0 == "ping" }).count < 2, let message = await stream.next(timeout: 5) {
                if message.event == ":" { comments.append(message.data) }
            }
            #expect(comments.filter { $0 == "ping" }.count == 2)
            await stream.close()
        }
    }
}
