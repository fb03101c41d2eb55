import NIOConcurrencyHelpers

/// How many plain HTTP connections each client address has that owe a request head (new ones, and
/// idle kept-alive ones), capped per address (`limits.max_waiting_connections_per_address`), so that
/// one address cannot hold many sockets open by sending nothing, or a byte at a time.
final class WaitingConnections: Sendable {
    private let counts = NIOLockedValueBox([String: Int]())
    let maximumPerAddress: Int

    init(maximumPerAddress: Int) {
        self.maximumPerAddress = maximumPerAddress
    }

    /// Counts one more waiting connection from `address`; false (nothing counted) at the cap.
    func admit(_ address: String) -> Bool {
        counts.withLockedValue { counts in
            let count = counts[address, default: 0]
            guard count < maximumPerAddress else { return false }
            counts[address] = count + 1
            return true
        }
    }

    /// Forgets one waiting connection from `address`.
    func release(_ address: String) {
        counts.withLockedValue { counts in
            let count = counts[address, default: 1] - 1
            counts[address] = count > 0 ? count : nil
        }
    }
}
