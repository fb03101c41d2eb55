import Testing

@testable import SwitchboardCore

@Suite("Endpoint settings from JSON")
struct EndpointSettingsTests {
    private func settings(_ text: String, base: EndpointSettings? = nil) throws -> EndpointSettings {
        try EndpointSettings(json: try JSONParser.parse(Array(text.utf8)), base: base)
    }

    private func refusal(_ text: String, base: EndpointSettings? = nil) -> SwitchboardError.Code? {
        let error = #expect(throws: SwitchboardError.self, "\(text)") { try settings(text, base: base) }
        return error?.code
    }

    private func makeBase() throws -> EndpointSettings {
        try settings(
            #"""
            {"url":"https://example.com/hooks","channels":["orders","chat:*"],"types":["order.*"],
             "description":"Orders to billing","rateLimit":50,"ordered":true,
             "headers":{"Authorization":"Bearer t0ken","X-Tenant":"acme"}}
            """#
        )
    }

    @Test("A create request with only url and channels gets the defaults")
    func createsWithDefaults() throws {
        let created = try settings(#"{"url":"https://example.com/hooks","channels":["orders","chat:*"]}"#)
        #expect(created.url == "https://example.com/hooks")
        #expect(created.filter.channels.map(\.rawValue) == ["orders", "chat:*"])
        #expect(created.filter.types.isEmpty)
        #expect(created.description == "")
        #expect(created.rateLimit == nil)
        #expect(!created.isOrdered)
        #expect(created.headers.isEmpty)
    }

    @Test("Every field of a create request is read, headers in order")
    func readsEveryField() throws {
        let full = try makeBase()
        #expect(full.url == "https://example.com/hooks")
        #expect(full.filter.channels.map(\.rawValue) == ["orders", "chat:*"])
        #expect(full.filter.types.map(\.rawValue) == ["order.*"])
        #expect(full.description == "Orders to billing")
        #expect(full.rateLimit == 50)
        #expect(full.isOrdered)
        #expect(
            full.headers == [
                .init(name: "Authorization", value: "Bearer t0ken"), .init(name: "X-Tenant", value: "acme"),
            ]
        )
    }

    @Test("The secret and signing fields are accepted, for the endpoint API to read")
    func acceptsSigningFields() throws {
        let created = try settings(
            #"{"url":"https://example.com/h","channels":["*"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","signing":"ed25519"}"#
        )
        #expect(created.url == "https://example.com/h")
    }

    @Test(
        "A create request needs a url and at least one channel pattern",
        arguments: [
            #"{"channels":["orders"]}"#, #"{"url":"https://example.com/hooks"}"#,
            #"{"url":"https://example.com/hooks","channels":[]}"#, #"{"url":null,"channels":["orders"]}"#,
            #"{"url":"https://example.com/hooks","channels":null}"#,
            #"{"url":"https://example.com/hooks","channels":"orders"}"#,
            #"{"url":"https://example.com/hooks","channels":[7]}"#,
            #"{"url":"https://example.com/hooks","channels":["a*b"]}"#,
            "{}", "[]", #""https://example.com""#, "null",
        ]
    )
    func requiresURLAndChannels(text: String) {
        #expect(refusal(text) == .badRequest)
    }

    @Test("Unknown fields are refused, on create and on PATCH")
    func refusesUnknownFields() throws {
        #expect(refusal(#"{"url":"https://example.com/hooks","channels":["orders"],"retries":3}"#) == .badRequest)
        #expect(refusal(#"{"URL":"https://example.com/hooks","channels":["orders"]}"#) == .badRequest)
        #expect(refusal(#"{"enabled":false}"#, base: try makeBase()) == .badRequest)
    }

    @Test(
        "http and https URLs with a host are accepted",
        arguments: [
            "https://example.com/hooks", "http://example.com", "HTTPS://Example.COM:8443/a/b?c=d#e",
            "http://127.0.0.1:8080/hook", "http://[::1]:8080/hook",
        ]
    )
    func acceptsHTTPURLs(url: String) throws {
        #expect(try settings(#"{"url":"\#(url)","channels":["*"]}"#).url == url)
    }

    @Test(
        "URLs that are not absolute http(s) URLs with a host are refused",
        arguments: [
            "", "ftp://example.com/hooks", "file:///etc/passwd", "javascript:alert(1)", "example.com/hooks",
            "/hooks", "https://", "https:///path", "mailto:ops@example.com", "ws://example.com/socket",
            "https://example.com/" + String(repeating: "a", count: 2048),
        ]
    )
    func refusesOtherURLs(url: String) {
        #expect(refusal(#"{"url":"\#(url)","channels":["*"]}"#) == .badRequest)
    }

    @Test(
        "URLs carrying credentials are refused",
        arguments: ["https://user:pass@example.com/hooks", "https://user@example.com/hooks", "http://:pw@example.com"]
    )
    func refusesCredentials(url: String) {
        #expect(refusal(#"{"url":"\#(url)","channels":["*"]}"#) == .badRequest)
    }

    @Test(
        "Headers the server sets itself cannot be overridden, whatever their case",
        arguments: [
            "webhook-id", "Webhook-Timestamp", "WEBHOOK-SIGNATURE", "Content-Type", "content-length", "Host",
            "User-Agent", "Transfer-Encoding", "Connection",
        ]
    )
    func refusesReservedHeaders(name: String) {
        #expect(refusal(#"{"url":"https://example.com","channels":["*"],"headers":{"\#(name)":"x"}}"#) == .badRequest)
    }

    @Test(
        "Header values with CR, LF or other control characters are refused",
        arguments: [#"a\r\nX-Injected: 1"#, #"a\nb"#, #"a\rb"#, #"a\u0000b"#, #"a\u007fb"#, #"\r\n"#]
    )
    func refusesControlCharactersInValues(value: String) {
        #expect(
            refusal(#"{"url":"https://example.com","channels":["*"],"headers":{"X-A":"\#(value)"}}"#) == .badRequest
        )
    }

    @Test(
        "Header names must be HTTP tokens",
        arguments: ["", "X A", "X-A:", "X-A\\r\\nX-B", "é", "(x)"]
    )
    func refusesBadHeaderNames(name: String) {
        #expect(refusal(#"{"url":"https://example.com","channels":["*"],"headers":{"\#(name)":"x"}}"#) == .badRequest)
    }

    @Test("Header values may hold tabs, spaces and non-ASCII text; headers must be strings")
    func headerValues() throws {
        let ok = try settings(#"{"url":"https://example.com","channels":["*"],"headers":{"X-A":"a\tb c é"}}"#)
        #expect(ok.headers == [.init(name: "X-A", value: "a\tb c é")])
        #expect(refusal(#"{"url":"https://example.com","channels":["*"],"headers":{"X-A":1}}"#) == .badRequest)
        #expect(refusal(#"{"url":"https://example.com","channels":["*"],"headers":["X-A"]}"#) == .badRequest)
    }

    @Test("At most 20 headers")
    func limitsHeaderCount() throws {
        func body(_ count: Int) -> String {
            let fields = (0..<count).map { #""X-H\#($0)":"v""# }.joined(separator: ",")
            return #"{"url":"https://example.com","channels":["*"],"headers":{\#(fields)}}"#
        }
        #expect(try settings(body(20)).headers.count == 20)
        #expect(refusal(body(21)) == .badRequest)
    }

    @Test("A description of at most 1000 bytes is accepted")
    func limitsDescription() throws {
        let longest = String(repeating: "d", count: 1000)
        #expect(
            try settings(#"{"url":"https://e.com","channels":["*"],"description":"\#(longest)"}"#).description
                == longest
        )
        #expect(refusal(#"{"url":"https://e.com","channels":["*"],"description":"\#(longest)d"}"#) == .badRequest)
        #expect(refusal(#"{"url":"https://e.com","channels":["*"],"description":7}"#) == .badRequest)
    }

    @Test("A rate limit is 1 to 100000 deliveries per second", arguments: ["1", "100000", "25.0"])
    func acceptsRateLimits(value: String) throws {
        let limit = try settings(#"{"url":"https://e.com","channels":["*"],"rateLimit":\#(value)}"#).rateLimit
        #expect(limit == Int(Double(value)!))
    }

    @Test(
        "Rate limits outside 1 to 100000, or not integers, are refused",
        arguments: ["0", "-1", "100001", "1.5", #""10""#, "true", "[]", "1e30"]
    )
    func refusesRateLimits(value: String) {
        #expect(refusal(#"{"url":"https://e.com","channels":["*"],"rateLimit":\#(value)}"#) == .badRequest)
    }

    @Test("ordered must be a boolean")
    func orderedIsBoolean() {
        #expect(refusal(#"{"url":"https://e.com","channels":["*"],"ordered":"yes"}"#) == .badRequest)
        #expect(refusal(#"{"url":"https://e.com","channels":["*"],"ordered":1}"#) == .badRequest)
    }

    // MARK: PATCH

    @Test("An empty PATCH changes nothing")
    func emptyPatchKeepsEverything() throws {
        let base = try makeBase()
        #expect(try settings("{}", base: base) == base)
    }

    @Test("A PATCH changes only the fields it names")
    func patchKeepsUnspecifiedFields() throws {
        let base = try makeBase()

        var expected = base
        expected.description = "renamed"
        #expect(try settings(#"{"description":"renamed"}"#, base: base) == expected)

        expected = base
        expected.url = "https://example.org/new"
        #expect(try settings(#"{"url":"https://example.org/new"}"#, base: base) == expected)

        expected = base
        expected.rateLimit = 7
        expected.isOrdered = false
        #expect(try settings(#"{"rateLimit":7,"ordered":false}"#, base: base) == expected)

        let rechanneled = try settings(#"{"channels":["billing"]}"#, base: base)
        #expect(rechanneled.filter.channels.map(\.rawValue) == ["billing"])
        #expect(rechanneled.filter.types == base.filter.types)
        #expect(rechanneled.url == base.url && rechanneled.headers == base.headers && rechanneled.rateLimit == 50)

        let retyped = try settings(#"{"types":[]}"#, base: base)
        #expect(retyped.filter.types.isEmpty)
        #expect(retyped.filter.channels == base.filter.channels)
    }

    @Test("A null rate limit in a PATCH removes the limit; null headers remove the headers")
    func patchNullClears() throws {
        let base = try makeBase()
        var expected = base
        expected.rateLimit = nil
        #expect(try settings(#"{"rateLimit":null}"#, base: base) == expected)

        expected = base
        expected.headers = []
        #expect(try settings(#"{"headers":null}"#, base: base) == expected)
    }

    @Test("A PATCH is validated like a create request")
    func patchIsValidated() throws {
        let base = try makeBase()
        #expect(refusal(#"{"rateLimit":0}"#, base: base) == .badRequest)
        #expect(refusal(#"{"channels":[]}"#, base: base) == .badRequest)
        #expect(refusal(#"{"url":"ftp://example.com"}"#, base: base) == .badRequest)
        #expect(refusal(#"{"url":null}"#, base: base) == .badRequest)
        #expect(refusal(#"{"headers":{"webhook-id":"x"}}"#, base: base) == .badRequest)
    }

    @Test("Settings made in code are checked by validate()")
    func validatesInCode() throws {
        let filter = try EndpointFilter(channels: [NamePattern("*")], types: [])
        #expect(throws: Never.self) { try EndpointSettings(url: "https://example.com", filter: filter).validate() }
        let error = #expect(throws: SwitchboardError.self) {
            try EndpointSettings(
                url: "https://example.com",
                filter: filter,
                headers: [.init(name: "X-A", value: "a\r\nb")]
            ).validate()
        }
        #expect(error?.code == .badRequest)
    }
}
