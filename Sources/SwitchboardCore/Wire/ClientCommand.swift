/// A command a WebSocket client sends, decoded and validated.
public enum ClientCommand: Hashable, Sendable {
    case auth(token: String)
    case subscribe(channel: ChannelName, since: Int64?)
    case unsubscribe(channel: ChannelName)
    case publish(EventDraft)
    case presence(channel: ChannelName)
    case history(channel: ChannelName, after: Int64, limit: Int?)
    case ping
    /// Relay the deliveries of a `relay://` endpoint over this connection (`switchboard listen`).
    case listen(endpoint: String)
    /// The outcome of a relayed delivery: the local receiver's status, or why there was none.
    case relayed(delivery: String, status: Int?, error: String?, body: String?)

    /// A decoded command and the `ref` to echo on its reply.
    public struct Envelope: Hashable, Sendable {
        /// The command.
        public let command: ClientCommand
        /// The client's `ref`, echoed on the reply (a JSON scalar), or nil.
        public let ref: JSONValue?
    }

    /// Why a frame was refused, with the `ref` to echo when one could be read.
    public struct Rejection: Error, Hashable, Sendable {
        /// The error to send.
        public let error: SwitchboardError
        /// The client's `ref`, when the frame was an object carrying one.
        public let ref: JSONValue?
    }

    /// Decodes one text frame.
    public static func decode(_ bytes: [UInt8], limits: Limits) throws(Rejection) -> Envelope {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw Rejection(error: SwitchboardError(.badRequest, "invalid JSON: \(error)"), ref: nil)
        }
        guard case .object = value else {
            throw Rejection(error: SwitchboardError(.badRequest, "a command is a JSON object"), ref: nil)
        }
        var ref = value["ref"]
        if let r = ref, !r.isScalar { ref = nil }
        do {
            return Envelope(command: try decodeCommand(value, limits: limits), ref: ref)
        } catch {
            throw Rejection(error: error, ref: ref)
        }
    }

    private static func decodeCommand(_ value: JSONValue, limits: Limits) throws(SwitchboardError) -> ClientCommand {
        guard let op = value["op"]?.stringValue else {
            throw SwitchboardError(.badRequest, "\"op\" is required and must be a string")
        }
        switch op {
        case "auth":
            guard let token = value["token"]?.stringValue else {
                throw SwitchboardError(.badRequest, "\"token\" is required")
            }
            return .auth(token: token)
        case "subscribe":
            let channel = try channelField(value)
            let since = try optionalOffset(value, "since")
            return .subscribe(channel: channel, since: since)
        case "unsubscribe":
            return .unsubscribe(channel: try channelField(value))
        case "publish":
            return .publish(try EventDraft.parse(value, channel: nil, headerKey: nil, limits: limits))
        case "presence":
            return .presence(channel: try channelField(value))
        case "history":
            let channel = try channelField(value)
            let after = try optionalOffset(value, "after") ?? 0
            var limit: Int?
            if let l = value["limit"] {
                guard let n = l.intValue, n >= 1 else {
                    throw SwitchboardError(.badRequest, "\"limit\" must be a positive integer")
                }
                limit = Int(min(n, Int64(limits.maximumHistoryPage)))
            }
            return .history(channel: channel, after: after, limit: limit)
        case "ping":
            return .ping
        case "listen":
            guard let endpoint = value["endpoint"]?.stringValue, !endpoint.isEmpty else {
                throw SwitchboardError(.badRequest, "\"endpoint\" is required")
            }
            return .listen(endpoint: endpoint)
        case "relayed":
            guard let delivery = value["delivery"]?.stringValue else {
                throw SwitchboardError(.badRequest, "\"delivery\" is required")
            }
            let status = value["status"]?.intValue.flatMap { (100...599).contains($0) ? Int($0) : nil }
            let error = value["error"]?.stringValue
            guard status != nil || error != nil else {
                throw SwitchboardError(.badRequest, "a relayed result has a \"status\" (100-599) or an \"error\"")
            }
            return .relayed(
                delivery: delivery,
                status: status,
                error: error.map { String($0.prefix(1000)) },
                body: value["body"]?.stringValue.map { String($0.prefix(4096)) }
            )
        default:
            throw SwitchboardError(.unknownOp, "unknown op \(JSONWriter.quoted(String(op.prefix(64))))")
        }
    }

    private static func channelField(_ value: JSONValue) throws(SwitchboardError) -> ChannelName {
        guard let name = value["channel"]?.stringValue else {
            throw SwitchboardError(.invalidChannel, "\"channel\" is required and must be a string")
        }
        return try ChannelName(name)
    }

    private static func optionalOffset(_ value: JSONValue, _ key: String) throws(SwitchboardError) -> Int64? {
        guard let field = value[key], field != .null else { return nil }
        guard let offset = field.intValue, offset >= 0 else {
            throw SwitchboardError(.badRequest, "\"\(key)\" must be a non-negative integer offset")
        }
        return offset
    }
}
