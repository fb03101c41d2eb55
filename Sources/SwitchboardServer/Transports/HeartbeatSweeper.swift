import NIOConcurrencyHelpers
import NIOCore

/// A long-lived connection a `HeartbeatSweeper` keeps alive: a WebSocket (pinged, and closed when
/// silent) or an SSE stream (sent a comment).
protocol Heartbeating: AnyObject {
    /// The loop the connection lives on; `heartbeat` is called there.
    var eventLoop: any EventLoop { get }
    /// The connection's place in its loop's list (-1: not in it); kept by the sweeper.
    var heartbeatSlot: Int { get set }
    /// Called every interval while the connection is registered.
    func heartbeat(now: NIODeadline, interval: TimeAmount)
}

/// Pings the long-lived connections of each event loop from one repeated task per loop, instead of a
/// timer per connection: a timer costs memory on every idle connection, and idle connections are
/// what a real-time server has most of. A loop's task runs only while the loop has connections.
final class HeartbeatSweeper: Sendable {
    private let interval: TimeAmount
    private let loops = NIOLockedValueBox([ObjectIdentifier: LoopHeartbeat]())

    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Starts pinging `connection` (on its event loop).
    func register(_ connection: some Heartbeating) {
        let loop = connection.eventLoop
        let heartbeat = loops.withLockedValue { loops in
            if let existing = loops[ObjectIdentifier(loop)] { return existing }
            let created = LoopHeartbeat(loop: loop, interval: interval)
            loops[ObjectIdentifier(loop)] = created
            return created
        }
        heartbeat.add(connection)
    }

    /// Stops pinging `connection` (on its event loop).
    func deregister(_ connection: some Heartbeating) {
        let heartbeat = loops.withLockedValue { $0[ObjectIdentifier(connection.eventLoop)] }
        heartbeat?.remove(connection)
    }
}

/// One event loop's connections and its ping task.
///
/// `@unchecked Sendable`: its state is touched only on `loop` (connections register and deregister
/// from their handlers, and the task runs there).
final class LoopHeartbeat: @unchecked Sendable {
    private let loop: any EventLoop
    private let interval: TimeAmount
    private var connections: [any Heartbeating] = []
    private var task: RepeatedTask?

    init(loop: any EventLoop, interval: TimeAmount) {
        self.loop = loop
        self.interval = interval
    }

    func add(_ connection: some Heartbeating) {
        loop.preconditionInEventLoop()
        connection.heartbeatSlot = connections.count
        connections.append(connection)
        guard task == nil else { return }
        task = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in self.tick() }
    }

    func remove(_ connection: some Heartbeating) {
        loop.preconditionInEventLoop()
        let slot = connection.heartbeatSlot
        guard slot >= 0, slot < connections.count, connections[slot] === connection else { return }
        let last = connections.removeLast()
        if slot < connections.count {
            connections[slot] = last
            last.heartbeatSlot = slot
        }
        connection.heartbeatSlot = -1
        if connections.isEmpty {
            task?.cancel()
            task = nil
        }
    }

    private func tick() {
        let now = NIODeadline.now()
        for connection in connections {
            connection.heartbeat(now: now, interval: interval)
        }
    }
}
