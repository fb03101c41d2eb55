import Synchronization

/// A value that concurrent tasks of one test read and write, behind a lock.
public final class SharedValue<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    public init(_ initial: Value) { value = Mutex(initial) }

    /// The value now.
    public var current: Value { value.withLock { $0 } }

    /// Replaces the value.
    public func set(_ newValue: Value) { value.withLock { $0 = newValue } }
}
