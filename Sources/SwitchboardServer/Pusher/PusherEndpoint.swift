import SwitchboardCore

/// A webhook endpoint that receives a Pusher app's webhooks (`"signing": "pusher"`): which of the log's
/// events it wants. Its `channels` name the app's channels; each also stands for the channel's presence
/// and occupancy journals, where `member_…` and `channel_…` webhooks come from.
enum PusherEndpoint {
    /// The types of the events Pusher's webhooks are made of (see `PusherWebhook`).
    static let defaultTypes = [
        "client-*", "presence.join", "presence.leave", PusherWebhook.occupiedType.rawValue,
        PusherWebhook.vacatedType.rawValue,
    ]

    /// A Pusher endpoint's key is its app's secret, which only the configuration changes: no secret
    /// to show or rotate.
    static let signedByAppSecret = SwitchboardError(
        .conflict,
        "a Pusher endpoint is signed with its app's secret, which is set in the configuration (pusher.*)"
    )

    /// A create request (`isNew`: `channels` defaults to every channel, `types` to all of Pusher's) or a
    /// `PATCH` with each channel pattern followed by its journals' patterns.
    static func withJournals(_ body: JSONValue, isNew: Bool) -> JSONValue {
        guard case .object(var members) = body else { return body }
        if let index = members.firstIndex(where: { $0.0 == "channels" }), case .array(let patterns) = members[index].1 {
            members[index].1 = .array(expanded(patterns))
        } else if isNew {
            members.append(("channels", .array(expanded([.string("*")]))))
        }
        if isNew, body["types"] == nil { members.append(("types", .array(defaultTypes.map { .string($0) }))) }
        return .object(members)
    }

    /// Each application channel pattern, then its `$presence:` and `$occupancy:` forms (once each).
    private static func expanded(_ patterns: [JSONValue]) -> [JSONValue] {
        var result: [JSONValue] = []
        for pattern in patterns {
            var forms = [pattern]
            if case .string(let text) = pattern, !text.hasPrefix("$") {
                forms += [.string(ChannelName.presencePrefix + text), .string(ChannelName.occupancyPrefix + text)]
            }
            for form in forms where !result.contains(form) { result.append(form) }
        }
        return result
    }
}
