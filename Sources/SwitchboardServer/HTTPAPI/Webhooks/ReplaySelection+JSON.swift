import SwitchboardCore
import SwitchboardStore

extension ReplaySelection {
    /// Reads a replay body: `{"since":"<time>"}` or `{"channel":"orders","fromOffset":40,"toOffset"?:60}`,
    /// with `"status":"failed"|"all"` and an optional boolean `dryRun`.
    init(json body: JSONValue) throws(SwitchboardError) {
        switch body["dryRun"] {
        case .none, .bool: break
        default: throw SwitchboardError(.badRequest, "dryRun is true or false")
        }
        let onlyFailed: Bool
        switch body["status"] {
        case .none, .string("failed"): onlyFailed = true
        case .string("all"): onlyFailed = false
        default: throw SwitchboardError(.badRequest, "status is \"failed\" (default) or \"all\"")
        }
        switch (body["since"], body["channel"]) {
        case (.some(let since), .none):
            guard let text = since.stringValue, let time = Timestamp(rfc3339: text) else {
                throw SwitchboardError(.badRequest, "since is an RFC 3339 time such as 2026-11-22T23:20:01.123Z")
            }
            self.init(range: .since(time), onlyFailed: onlyFailed)
        case (.none, .some(let channel)):
            guard let name = channel.stringValue else {
                throw SwitchboardError(.invalidChannel, "channel must be a string")
            }
            let channel = try ChannelName(name)
            guard let from = body["fromOffset"]?.intValue, from >= 1 else {
                throw SwitchboardError(.badRequest, "fromOffset is required with channel: an offset of 1 or more")
            }
            var through: Int64?
            if let value = body["toOffset"] {
                guard let to = value.intValue, to >= from else {
                    throw SwitchboardError(.badRequest, "toOffset is an offset not below fromOffset")
                }
                through = to
            }
            self.init(range: .offsets(channel: channel, from: from, through: through), onlyFailed: onlyFailed)
        default:
            throw SwitchboardError(
                .badRequest,
                "name what to replay: {\"since\":\"<RFC 3339 time>\"} or {\"channel\":…,\"fromOffset\":…,\"toOffset\"?:…}"
            )
        }
    }
}
