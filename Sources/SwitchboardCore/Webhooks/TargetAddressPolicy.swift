/// Which network addresses webhook targets may connect to. By default only public unicast addresses:
/// loopback, private (RFC 1918, unique-local), link-local, carrier-grade NAT, unspecified, multicast,
/// broadcast, documentation, tunnel (6to4, Teredo, local-use NAT64) and cloud metadata addresses are
/// refused, so that an endpoint cannot reach into the
/// server's own network. Checked on the resolved address that is actually connected to.
public struct TargetAddressPolicy: Hashable, Sendable {
    /// Every address is allowed (development mode, or `webhooks.allow_private_targets`).
    public let allowsPrivate: Bool

    /// Makes a policy.
    public init(allowsPrivate: Bool) {
        self.allowsPrivate = allowsPrivate
    }

    /// Why `address` (4 or 16 bytes) may not be connected to, or nil when it may.
    public func refusal(for address: [UInt8]) -> String? {
        guard !allowsPrivate else { return nil }
        return Self.classify(address)
    }

    /// The kind of non-public address `address` is, or nil for a public unicast address.
    public static func classify(_ address: [UInt8]) -> String? {
        switch address.count {
        case 4: return classifyIPv4(address)
        case 16: return classifyIPv6(address)
        default: return "not an IP address"
        }
    }

    private static func classifyIPv4(_ a: [UInt8]) -> String? {
        switch (a[0], a[1]) {
        case (0, _): return "an unspecified address"
        case (10, _): return "a private address"
        case (100, 64...127): return "a carrier-grade NAT address"
        case (127, _): return "a loopback address"
        case (169, 254): return a[2] == 169 && a[3] == 254 ? "a cloud metadata address" : "a link-local address"
        case (172, 16...31): return "a private address"
        case (192, 0) where a[2] == 0: return "an IETF protocol assignment address"
        case (192, 0) where a[2] == 2, (198, 51) where a[2] == 100, (203, 0) where a[2] == 113:
            return "a documentation (TEST-NET) address"
        case (192, 168): return "a private address"
        case (198, 18...19): return "a benchmarking address"
        case (168, 63) where a[2] == 129 && a[3] == 16: return "a cloud metadata address"
        case (224...239, _): return "a multicast address"
        case (240...255, _): return "a reserved or broadcast address"
        default: return nil
        }
    }

    private static func classifyIPv6(_ a: [UInt8]) -> String? {
        if a.allSatisfy({ $0 == 0 }) { return "an unspecified address" }
        if a[0..<15].allSatisfy({ $0 == 0 }) && a[15] == 1 { return "a loopback address" }
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): judge the IPv4 address inside.
        if a[0..<10].allSatisfy({ $0 == 0 }) && ((a[10] == 0xFF && a[11] == 0xFF) || (a[10] == 0 && a[11] == 0)) {
            return classifyIPv4(Array(a[12..<16]))
        }
        // NAT64 (64:ff9b::/96) embeds an IPv4 address too.
        if a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xFF && a[3] == 0x9B && a[4..<12].allSatisfy({ $0 == 0 }) {
            return classifyIPv4(Array(a[12..<16]))
        }
        // Local-use NAT64 (64:ff9b:1::/48) translates into a network of the operator's choosing.
        if a[0] == 0x00 && a[1] == 0x64 && a[2] == 0xFF && a[3] == 0x9B && a[4] == 0x00 && a[5] == 0x01 {
            return "a local-use NAT64 address"
        }
        // 6to4 (2002::/16) and Teredo (2001::/32) tunnel to IPv4 addresses that cannot be judged here.
        if a[0] == 0x20 && a[1] == 0x02 { return "a 6to4 tunnel address" }
        if a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] == 0x00 { return "a Teredo tunnel address" }
        if a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0D && a[3] == 0xB8 { return "a documentation address" }
        if a[0] == 0xFD && a[1] == 0x00 && a[2] == 0x0E && a[3] == 0xC2 { return "a cloud metadata address" }
        if a[0] & 0xFE == 0xFC { return "a unique-local (private) address" }
        if a[0] == 0xFE && a[1] & 0xC0 == 0x80 { return "a link-local address" }
        if a[0] == 0xFE && a[1] & 0xC0 == 0xC0 { return "a site-local address" }
        if a[0] == 0xFF { return "a multicast address" }
        return nil
    }
}
