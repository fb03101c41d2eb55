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

    /// A create request with every channel when it names none.
    static func withDefaultChannels(_ body: JSONValue) -> JSONValue {
        guard case .object(var members) = body, body["channels"] == nil else { return body }
        members.append(("channels", .array([.string("*")])))
        return .object(members)
    }

    /// `settings` (parsed from `body`) with each channel pattern followed by its journals' patterns
    /// and, for a new endpoint whose request named no types, the types Pusher's webhooks are made of.
    static func withJournals(
        _ settings: EndpointSettings,
        body: JSONValue,
        isNew: Bool
    ) throws(SwitchboardError) -> EndpointSettings {
        var settings = settings
        var types = settings.filter.types
        if isNew, body["types"] == nil {
            types = []
            for type in defaultTypes { types.append(try NamePattern(type, ofTypes: true)) }
        }
        var channels: [NamePattern] = []
        for pattern in settings.filter.channels {
            var forms = [pattern]
            if !pattern.rawValue.hasPrefix("$") {
                forms.append(try NamePattern(ChannelName.presencePrefix + pattern.rawValue))
                forms.append(try NamePattern(ChannelName.occupancyPrefix + pattern.rawValue))
            }
            for form in forms where !channels.contains(form) { channels.append(form) }
        }
        settings.filter = try EndpointFilter(channels: channels, types: types)
        return settings
    }
}
