import NIOConcurrencyHelpers
import NIOCore
import SwitchboardCore

/// This node's Pusher connections by socket id, so that an event triggered through the HTTP API with
/// a `socket_id` leaves that connection out (Laravel's `toOthers()`). A connection is here from its
/// `pusher:connection_established` until its socket closes.
final class PusherSockets: Sendable {
    private let connections = NIOLockedValueBox<[String: WebSocketConnection]>([:])

    func register(_ socketID: String, _ connection: WebSocketConnection) {
        connections.withLockedValue { $0[socketID] = connection }
    }

    func deregister(_ socketID: String) {
        _ = connections.withLockedValue { $0.removeValue(forKey: socketID) }
    }

    /// Makes the connection with `socketID` (when it is on this node) leave out the events with these
    /// ids, before they are published; returns the ids to publish them under.
    func exclude(socketID: String, count: Int, using generator: inout some RandomNumberGenerator) async -> [EventID?] {
        guard let connection = connections.withLockedValue({ $0[socketID] }) else {
            return Array(repeating: nil, count: count)
        }
        let ids = (0..<count).map { _ in PusherSockets.newEventID(using: &generator) }
        let raw = ids.map(\.rawValue)
        try? await connection.eventLoop.submit { connection.leaveOut(raw) }.get()
        return ids
    }

    /// A fresh id for an event a Pusher connection should not receive back.
    static func newEventID(using generator: inout some RandomNumberGenerator) -> EventID {
        EventID(stored: EventID.clientPrefix + "pusher_" + RandomToken.base62(count: 22, using: &generator))
    }
}
