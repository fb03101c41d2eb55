/// A `RandomNumberGenerator` over a function returning random bits: the one generator the project
/// passes to `using: &generator` APIs, so that randomness can be injected (a test's seeded source,
/// the machine's secure one in production).
///
/// It is never an empty struct: an empty type passed `inout` to a generic function has no real
/// address, and ThreadSanitizer's instrumentation of that access then reads shadow memory for a
/// meaningless pointer and crashes the process (the compiler skips the instrumentation only where
/// it knows the type is empty). Holding the function gives every instance storage.
public struct RandomBitsGenerator: RandomNumberGenerator, Sendable {
    private let randomBits: @Sendable () -> UInt64

    /// A generator over `randomBits`.
    public init(randomBits: @escaping @Sendable () -> UInt64) {
        self.randomBits = randomBits
    }

    /// The machine's cryptographically secure source of bits.
    public static let systemRandomBits: @Sendable () -> UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// A generator over the machine's cryptographically secure source.
    public static var system: RandomBitsGenerator {
        RandomBitsGenerator(randomBits: systemRandomBits)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        randomBits()
    }
}
