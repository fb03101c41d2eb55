import SwitchboardCore

/// Pusher's names on Switchboard: a Pusher channel is the Switchboard channel of the same name, and
/// socket ids are `digits.digits`.
enum PusherChannel {
    /// Pusher's bound on the channels of one triggered event.
    static let maximumChannelsPerTrigger = 100

    /// The Switchboard channel for a Pusher channel name. Pusher's `@ , ;` have no place in Switchboard
    /// names, and `$` channels are the server's own: both are refused.
    static func name(_ text: String) throws(SwitchboardError) -> ChannelName {
        guard !text.hasPrefix("$") else {
            throw SwitchboardError(.invalidChannel, "channels starting with $ are written by the server only")
        }
        do {
            return try ChannelName(text)
        } catch {
            throw SwitchboardError(
                .invalidChannel,
                "Pusher channel names here are 1–200 of A–Z a–z 0–9 _ - . : = (no @ , or ;)"
            )
        }
    }

    /// Whether `text` is a Pusher socket id (`1234.5678`).
    static func isSocketID(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2
            && parts.allSatisfy { !$0.isEmpty && $0.utf8.count <= 20 && $0.utf8.allSatisfy { (48...57).contains($0) } }
    }

    /// The publisher recorded with an app's events (and the key its publish rate is counted under).
    static func origin(of app: PusherApp) -> String { "pusher:" + app.id }
}
