import Testing

@testable import SwitchboardCore

@Suite("Webhook target addresses")
struct TargetAddressPolicyTests {
    /// The bytes of a dotted quad.
    private static func dottedQuad(_ text: Substring) throws -> [UInt8] {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        try #require(parts.count == 4, "\(text) is not a dotted quad")
        return try parts.map { try #require(UInt8($0), "\(text) is not a dotted quad") }
    }

    /// The 4 or 16 bytes of an IPv4 or IPv6 address written as text (`::` and a trailing dotted quad allowed).
    private static func bytes(_ text: String) throws -> [UInt8] {
        guard text.contains(":") else { return try dottedQuad(Substring(text)) }
        func groups(_ part: Substring) throws -> [UInt8] {
            guard !part.isEmpty else { return [] }
            return try part.split(separator: ":", omittingEmptySubsequences: false).flatMap {
                (group) throws -> [UInt8] in
                if group.contains(".") { return try dottedQuad(group) }
                let value = try #require(UInt16(group, radix: 16), "\(text) has a bad group")
                return [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
        }
        var address: [UInt8]
        if let gap = text.firstRange(of: "::") {
            let head = try groups(text[..<gap.lowerBound])
            let tail = try groups(text[gap.upperBound...])
            try #require(head.count + tail.count < 16, "\(text) is too long")
            address = head + [UInt8](repeating: 0, count: 16 - head.count - tail.count) + tail
        } else {
            address = try groups(Substring(text))
        }
        try #require(address.count == 16, "\(text) is not 16 bytes")
        return address
    }

    @Test("The address helper writes what it reads")
    func helperParses() throws {
        #expect(try Self.bytes("172.31.255.255") == [172, 31, 255, 255])
        #expect(try Self.bytes("::1") == [UInt8](repeating: 0, count: 15) + [1])
        #expect(
            try Self.bytes("fd00:ec2::254") == [0xFD, 0x00, 0x0E, 0xC2] + [UInt8](repeating: 0, count: 10) + [
                0x02, 0x54,
            ]
        )
        #expect(try Self.bytes("::ffff:8.8.8.8") == [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 8, 8, 8, 8])
        #expect(try Self.bytes("2606:4700:0:0:0:0:0:1111").count == 16)
    }

    @Test(
        "Non-public IPv4 addresses are classified; public ones are not",
        arguments: [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("172.15.255.255", nil),
            ("172.32.0.1", nil),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "metadata"),
            ("169.254.1.1", "link-local"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.255", "carrier-grade NAT"),
            ("100.128.0.1", nil),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("255.255.255.255", "broadcast"),
            ("8.8.8.8", nil),
            ("1.1.1.1", nil),
            ("93.184.216.34", nil),
            ("192.0.2.10", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.200", "documentation"),
            ("203.0.114.1", nil),
            ("198.51.101.1", nil),
            ("168.63.129.16", "metadata"),
            ("168.63.129.17", nil),
        ] as [(String, String?)]
    )
    func classifiesIPv4(address: String, kind: String?) throws {
        let classification = TargetAddressPolicy.classify(try Self.bytes(address))
        if let kind {
            #expect(classification?.contains(kind) == true, "\(address) is \(classification ?? "public")")
        } else {
            #expect(classification == nil)
        }
    }

    @Test(
        "Non-public IPv6 addresses are classified, looking inside IPv4-mapped ones; public ones are not",
        arguments: [
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fc00::1", "private"),
            ("fd12:3456::1", "private"),
            ("fd00:ec2::254", "metadata"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "metadata"),
            ("::ffff:8.8.8.8", nil),
            ("64:ff9b::127.0.0.1", "loopback"),
            ("64:ff9b::8.8.8.8", nil),
            ("2606:4700::1111", nil),
            ("2001:4860:4860::8888", nil),
            ("2002:7f00:1::1", "6to4"),
            ("2002:808:808::1", "6to4"),
            ("64:ff9b:1::a00:1", "NAT64"),
            ("64:ff9b:2::a00:1", nil),
            ("2001:0:4136:e378::1", "Teredo"),
            ("2001:db8::1", "documentation"),
            ("::ffff:203.0.113.5", "documentation"),
        ] as [(String, String?)]
    )
    func classifiesIPv6(address: String, kind: String?) throws {
        let classification = TargetAddressPolicy.classify(try Self.bytes(address))
        if let kind {
            #expect(classification?.contains(kind) == true, "\(address) is \(classification ?? "public")")
        } else {
            #expect(classification == nil)
        }
    }

    @Test("Byte strings that are neither 4 nor 16 long are refused", arguments: [0, 1, 3, 5, 15, 17])
    func refusesOtherLengths(count: Int) {
        let address = [UInt8](repeating: 8, count: count)
        #expect(TargetAddressPolicy.classify(address) != nil)
        #expect(TargetAddressPolicy(allowsPrivate: false).refusal(for: address) != nil)
    }

    @Test("The default policy refuses exactly the classified addresses")
    func defaultPolicyRefusesClassified() throws {
        let policy = TargetAddressPolicy(allowsPrivate: false)
        for address in ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "fd00:ec2::254", "::ffff:127.0.0.1"] {
            let bytes = try Self.bytes(address)
            #expect(policy.refusal(for: bytes) != nil)
            #expect(policy.refusal(for: bytes) == TargetAddressPolicy.classify(bytes))
        }
        for address in ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            #expect(policy.refusal(for: try Self.bytes(address)) == nil)
        }
    }

    @Test("A policy that allows private targets refuses nothing")
    func allowingPrivateRefusesNothing() throws {
        let policy = TargetAddressPolicy(allowsPrivate: true)
        for address in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "169.254.1.1", "100.64.0.1",
            "0.0.0.0", "224.0.0.1", "255.255.255.255", "8.8.8.8", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254",
            "::ffff:127.0.0.1", "2606:4700::1111",
        ] {
            #expect(policy.refusal(for: try Self.bytes(address)) == nil, "\(address)")
        }
    }
}
