public import Crypto

/// The stored form of an API key: the hex SHA-256 of the key. Keys themselves are never stored.
public struct APIKeyDigest: Hashable, Sendable, CustomStringConvertible {
    /// Lower-case hex SHA-256.
    public let hex: String

    /// Digests a presented key.
    public init(of key: String) {
        let digest = SHA256.hash(data: Array(key.utf8))
        self.hex = Hex.encode(digest)
    }

    /// A digest read back from the store.
    public init(storedHex: String) {
        self.hex = storedHex
    }

    /// Compares in time independent of where the digests differ.
    public func constantTimeEquals(_ other: APIKeyDigest) -> Bool {
        ConstantTime.equals(Array(hex.utf8), Array(other.hex.utf8))
    }

    /// Never prints the digest itself, so that logging one leaks nothing useful.
    public var description: String { "APIKeyDigest(…)" }
}

/// Comparisons whose duration does not depend on the data compared.
public enum ConstantTime {
    /// Whether `a` and `b` are equal, looking at every byte either way.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let count = min(a.count, b.count)
        for i in 0..<count { difference |= a[i] ^ b[i] }
        return difference == 0 && a.count == b.count
    }
}

/// Makes new API keys: `sbk_` followed by 40 base-62 characters (about 238 bits).
public enum APIKeyGenerator {
    /// The prefix every key carries.
    public static let prefix = "sbk_"

    /// A new random key.
    public static func makeKey(using generator: inout some RandomNumberGenerator) -> String {
        prefix + RandomToken.base62(count: 40, using: &generator)
    }
}
