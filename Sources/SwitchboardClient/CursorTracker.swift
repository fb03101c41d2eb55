import NIOConcurrencyHelpers
import SwitchboardCore

/// The last offset delivered per channel; shared between reconnects so that each resumes from it.
final class CursorTracker: Sendable {
    private let offsets: NIOLockedValueBox<[ChannelName: Int64]>

    init(_ initial: [ChannelName: Int64]) {
        offsets = NIOLockedValueBox(initial)
    }

    func offset(for channel: ChannelName) -> Int64? {
        offsets.withLockedValue { $0[channel] }
    }

    /// Sets `channel`'s cursor to `offset` when it has none yet.
    func start(_ channel: ChannelName, at offset: Int64) {
        offsets.withLockedValue { offsets in
            if offsets[channel] == nil { offsets[channel] = offset }
        }
    }

    /// Drops `channel`'s cursor, so that the next events are taken whatever their offsets.
    func forget(_ channel: ChannelName) {
        offsets.withLockedValue { _ = $0.removeValue(forKey: channel) }
    }

    /// Records `offset`; false when it was already delivered (a duplicate after a reconnect).
    func advance(_ channel: ChannelName, to offset: Int64) -> Bool {
        offsets.withLockedValue { offsets in
            if let seen = offsets[channel], offset <= seen { return false }
            offsets[channel] = offset
            return true
        }
    }
}

/// Carries a publish result out of the WebSocket handler.
final class ResultBox: Sendable {
    private let value = NIOLockedValueBox<Result<(id: String, offset: Int64), any Error>?>(nil)

    func set(_ result: Result<(id: String, offset: Int64), any Error>) {
        value.withLockedValue { $0 = result }
    }

    func get() throws -> (id: String, offset: Int64) {
        guard let result = value.withLockedValue({ $0 }) else {
            throw ClientError(message: "the connection closed before the server answered", isFatal: false)
        }
        return try result.get()
    }
}

/// Set once the server welcomed a connection, so the backoff starts over.
final class OpenFlag: Sendable {
    private let value = NIOLockedValueBox(false)

    func set() { value.withLockedValue { $0 = true } }

    var isSet: Bool { value.withLockedValue { $0 } }
}
