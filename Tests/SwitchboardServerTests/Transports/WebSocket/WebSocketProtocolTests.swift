import SwitchboardCore
import SwitchboardEngine
import SwitchboardServer
import SwitchboardTestSupport
import Testing

@Suite("WebSocket protocol over a real socket")
struct WebSocketProtocolTests {
    private func json(_ text: String?) throws -> JSONValue {
        try JSONParser.parse(try #require(text))
    }

    private func connect(_ server: TestServer) async throws -> TestWebSocket {
        let socket = try await TestWebSocket.connect(
            port: server.port,
            headers: ["Authorization": "Bearer \(server.adminKey)"]
        )
        let welcome = try json(await socket.nextText())
        #expect(welcome["op"] == .string("welcome"))
        #expect(welcome["client"]?.stringValue?.hasPrefix("cl_") == true)
        #expect(welcome["heartbeat"]?.intValue == 25)
        return socket
    }

    @Test("A subscriber receives published events in offset order with the canonical fields")
    func liveEvents() async throws {
        try await TestServer.with { server in
            let socket = try await connect(server)
            try await socket.send(#"{"op":"subscribe","channel":"orders","ref":"s1"}"#)
            let subscribed = try json(await socket.nextText())
            #expect(subscribed["op"] == .string("subscribed"))
            #expect(subscribed["ref"] == .string("s1"))
            #expect(subscribed["truncated"] == .bool(false))
            let http = TestHTTP(server)
            for n in 1...5 { try await http.publish("orders", type: "order.created", data: "{\"n\":\(n)}") }
            for n in 1...5 {
                let event = try json(await socket.nextText())
                #expect(event["op"] == .string("event"))
                #expect(event["channel"] == .string("orders"))
                #expect(event["offset"]?.intValue == Int64(n))
                #expect(event["type"] == .string("order.created"))
                #expect(event["data"] == .object([("n", .int(Int64(n)))]))
                #expect(event["id"]?.stringValue?.hasPrefix("evt_") == true)
                #expect(Timestamp(rfc3339: event["time"]?.stringValue ?? "") != nil)
            }
            await socket.drop()
        }
    }

    @Test("A client that reconnects with its cursor gets exactly the 100 events it missed, in order")
    func recoveryAfterDisconnect() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            let first = try await connect(server)
            try await first.send(#"{"op":"subscribe","channel":"chat:7"}"#)
            _ = try json(await first.nextText())
            try await http.publish("chat:7", data: "\"before\"")
            let seen = try json(await first.nextText())
            let cursor = try #require(seen["offset"]?.intValue)
            await first.drop()

            for n in 1...100 { try await http.publish("chat:7", data: "\(n)") }

            let second = try await connect(server)
            try await second.send("{\"op\":\"subscribe\",\"channel\":\"chat:7\",\"since\":\(cursor)}")
            let subscribed = try json(await second.nextText())
            #expect(subscribed["recovered"] == .bool(true))
            #expect(subscribed["truncated"] == .bool(false))
            #expect(subscribed["offset"]?.intValue == cursor + 100)
            for n in 1...100 {
                let event = try json(await second.nextText())
                #expect(event["offset"]?.intValue == cursor + Int64(n))
                #expect(event["data"] == .int(Int64(n)))
            }
            // Nothing more than the 100: the next message is the pong we ask for.
            try await second.send(#"{"op":"ping","ref":9}"#)
            let pong = try json(await second.nextText())
            #expect(pong["op"] == .string("pong"))
            #expect(pong["ref"] == .int(9))
            await second.drop()
        }
    }

    @Test("A cursor beyond the head says truncated and continues from the earliest event")
    func cursorBeyondHead() async throws {
        try await TestServer.with { server in
            let http = TestHTTP(server)
            try await http.publish("orders", data: "1")
            try await http.publish("orders", data: "2")
            let socket = try await connect(server)
            try await socket.send(#"{"op":"subscribe","channel":"orders","since":50}"#)
            let subscribed = try json(await socket.nextText())
            #expect(subscribed["truncated"] == .bool(true))
            #expect(subscribed["recovered"] == .bool(false))
            #expect(try json(await socket.nextText())["offset"]?.intValue == 1)
            #expect(try json(await socket.nextText())["offset"]?.intValue == 2)
            await socket.drop()
        }
    }

    @Test(
        "Bad commands get an error frame and leave the connection open",
        arguments: [
            (#"{"op":"nope","ref":3}"#, "unknown_op"),
            ("not json", "bad_request"),
            ("[1,2]", "bad_request"),
            (#"{"op":"subscribe","channel":"bad channel"}"#, "invalid_channel"),
            (#"{"op":"subscribe"}"#, "invalid_channel"),
            (#"{"op":"publish","channel":"chat:1","type":"t","data":1}"#, "forbidden"),
            (#"{"op":"publish","channel":"$system","type":"t","data":1}"#, "forbidden"),
            (#"{"op":"history","channel":"orders","after":-1}"#, "bad_request"),
        ]
    )
    func badCommands(command: String, code: String) async throws {
        try await TestServer.with { server in
            let socket = try await TestWebSocket.connect(port: server.port)
            _ = await socket.nextText()
            try await socket.send(command)
            let error = try json(await socket.nextText())
            #expect(error["op"] == .string("error"))
            #expect(error["code"] == .string(code))
            #expect(error["message"]?.stringValue?.isEmpty == false)
            try await socket.send(#"{"op":"ping"}"#)
            #expect(try json(await socket.nextText())["op"] == .string("pong"))
            await socket.drop()
        }
    }

    @Test("The unknown op error echoes the client's ref")
    func unknownOpEchoesRef() async throws {
        try await TestServer.with { server in
            let socket = try await TestWebSocket.connect(port: server.port)
            _ = await socket.nextText()
            try await socket.send(#"{"op":"nope","ref":"abc"}"#)
            #expect(try json(await socket.nextText())["ref"] == .string("abc"))
            await socket.drop()
        }
    }

    @Test("A client may publish where the namespace allows it, and subscribers get the event")
    func clientPublish() async throws {
        try await TestServer.with(configure: {
            $0.engine.namespaces.named["chat"] = NamespacePolicy(isPublic: true, allowsClientPublish: true)
        }) { server in
            let listener = try await TestWebSocket.connect(port: server.port)
            _ = await listener.nextText()
            try await listener.send(#"{"op":"subscribe","channel":"chat:1"}"#)
            _ = await listener.nextText()
            let writer = try await TestWebSocket.connect(port: server.port)
            _ = await writer.nextText()
            try await writer.send(#"{"op":"publish","channel":"chat:1","type":"message","data":{"text":"hi"},"ref":1}"#)
            let published = try json(await writer.nextText())
            #expect(published["op"] == .string("published"))
            #expect(published["offset"]?.intValue == 1)
            #expect(published["ref"] == .int(1))
            let event = try json(await listener.nextText())
            #expect(event["data"] == .object([("text", .string("hi"))]))
            await listener.drop()
            await writer.drop()
        }
    }

    @Test("Anonymous subscribe to a private namespace is refused; a bad credential closes with 4001")
    func authorization() async throws {
        try await TestServer.with { server in
            let anonymous = try await TestWebSocket.connect(port: server.port)
            _ = await anonymous.nextText()
            try await anonymous.send(#"{"op":"subscribe","channel":"orders"}"#)
            #expect(try json(await anonymous.nextText())["code"] == .string("unauthorized"))
            await anonymous.drop()

            let wrong = try await TestWebSocket.connect(port: server.port, path: "/v1/ws?token=sbk_wrong")
            #expect(await wrong.next() == .close(code: 4001))
            await wrong.drop()
        }
    }

    @Test("Shutting the server down closes WebSockets with 1012")
    func gracefulShutdown() async throws {
        try await TestServer.with { server in
            let socket = try await connect(server)
            try await server.stop()
            #expect(await socket.closeCode() == 1012)
            try await server.start()
        }
    }

    @Test("The server pings every heartbeat interval and drops a peer it has not heard from for two")
    func heartbeat() async throws {
        try await TestServer.with(configure: { $0.heartbeatSeconds = 1 }) { server in
            let socket = try await TestWebSocket.connect(port: server.port)
            let welcome = try json(await socket.nextText())
            #expect(welcome["heartbeat"]?.intValue == 1)
            var pings = 0
            var ended = false
            // This client never answers: after two silent intervals the server closes the connection.
            while let message = await socket.next(timeout: 5) {
                if message == .ping { pings += 1 }
                if case .close = message { break }
            }
            ended = await socket.next(timeout: 5) == nil
            #expect(pings >= 1)
            #expect(ended)
        }
    }

    @Test("A client command sent in the same packet as the upgrade request is answered, and the server stays up")
    func commandWithTheUpgradeRequest() async throws {
        try await TestServer.with { server in
            let socket = try await TestRawSocket.connect(port: server.port)
            let upgrade =
                "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            // A masked text frame, as a client must send it, right behind the request's head.
            let command = Array(#"{"op":"ping","ref":"early"}"#.utf8)
            let mask: [UInt8] = [0x11, 0x22, 0x33, 0x44]
            let frame =
                [0x81, 0x80 | UInt8(command.count)] + mask
                + command.enumerated().map { $0.element ^ mask[$0.offset % 4] }
            try await socket.send(bytes: Array(upgrade.utf8) + frame)
            let received = await socket.readUntil(containing: #""ref":"early""#)
            #expect(received?.hasPrefix("HTTP/1.1 101") == true, "got \(received ?? "nothing")")
            #expect(received?.contains(#"{"op":"pong","ref":"early"}"#) == true, "got \(received ?? "nothing")")
            await socket.close()
            // The server still serves.
            let next = try await TestWebSocket.connect(port: server.port)
            #expect(try json(await next.nextText())["op"] == .string("welcome"))
            await next.drop()
        }
    }

    @Test("A malformed extension offer is declined and the connection works without compression")
    func malformedExtensionOffer() async throws {
        try await TestServer.with { server in
            for offer in [
                "permessage-deflate;=", "permessage-deflate; ;x", "permessage-deflate; server_max_window_bits=",
            ] {
                let socket = try await TestWebSocket.connect(
                    port: server.port,
                    headers: ["Sec-WebSocket-Extensions": offer]
                )
                #expect(try json(await socket.nextText())["op"] == .string("welcome"))
                await socket.drop()
            }
        }
    }
}
