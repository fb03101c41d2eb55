import HTTPTypes
public import Logging
import NIOCore
import NIOWebSocket
public import SwitchboardCore
import WSClient
import WSCore

/// The Swift client: follows channels over WebSocket, reconnecting with backoff and jitter and
/// resuming every channel from the last offset it delivered, so a reader survives server restarts
/// without losing or repeating events; and publishes.
public struct SwitchboardClient: Sendable {
    /// `http://host:port` (or `https://…`), without `/v1`.
    public let baseURL: String
    /// An API key or client token, if the server needs one.
    public let credential: String?
    /// Backoff between reconnects.
    public let reconnectPolicy: ReconnectPolicy
    let logger: Logger

    /// Makes a client.
    public init(
        baseURL: String,
        credential: String?,
        reconnectPolicy: ReconnectPolicy = ReconnectPolicy(),
        logger: Logger
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.credential = credential
        self.reconnectPolicy = reconnectPolicy
        self.logger = logger
    }

    var webSocketURL: String {
        let scheme = baseURL.hasPrefix("https://") ? "wss://" : "ws://"
        let rest = baseURL.split(separator: "://", maxSplits: 1).last.map(String.init) ?? baseURL
        return scheme + rest + "/v1/ws"
    }

    /// Follows `channels` until the task is cancelled or `onEvent` throws. `since` gives the last offset
    /// already seen per channel (absent: start live). `onState` hears connection changes.
    public func follow(
        channels: [ChannelName],
        since: [ChannelName: Int64] = [:],
        onState: @escaping @Sendable (ConnectionState) async -> Void = { _ in },
        onSubscribed: @escaping @Sendable (_ channel: ChannelName, _ head: Int64) async -> Void = { _, _ in },
        onEvent: @escaping @Sendable (Event) async throws -> Void
    ) async throws {
        let cursors = CursorTracker(since)
        try await reconnecting(onState: onState) { onOpen in
            try await connectOnce(
                channels: channels,
                cursors: cursors,
                onState: onState,
                onSubscribed: onSubscribed,
                onEvent: onEvent,
                onOpen: onOpen
            )
        }
    }

    /// Runs `connect` again and again with backoff until the task is cancelled or it fails fatally;
    /// `connect` calls its argument once the connection is open, which resets the backoff. The loop
    /// only executes what `ReconnectLoop` decides.
    func reconnecting(
        onState: @escaping @Sendable (ConnectionState) async -> Void,
        connect: (_ onOpen: @escaping @Sendable () -> Void) async throws -> Void
    ) async throws {
        var loop = ReconnectLoop()
        var rng = RandomBitsGenerator.system
        var action = loop.event(.start)
        var fatal: (any Error)?
        while true {
            if Task.isCancelled, loop.state != .closed { action = loop.event(.cancelled) }
            switch action {
            case .none, .close:
                // The loop only ever asks to connect, to wait or to close; anything else ends it too.
                await onState(.closed)
                if let fatal { throw fatal }
                return
            case .connect(let isReconnect):
                await onState(isReconnect ? .reconnecting : .connecting)
                let opened = OpenFlag()
                var ended = ReconnectLoop.Event.connectionEnded(isFatal: false)
                do {
                    try await connect {
                        opened.set()
                    }
                } catch let error as ClientError where error.isFatal {
                    fatal = error
                    ended = .connectionEnded(isFatal: true)
                } catch {
                    logger.debug("connection lost", metadata: ["sb.error": "\(error)"])
                }
                if opened.isSet { _ = loop.event(.opened) }
                action = loop.event(Task.isCancelled ? .cancelled : ended)
            case .wait(let attempt):
                try? await Task.sleep(for: reconnectPolicy.delay(attempt: attempt, using: &rng))
                action = loop.event(Task.isCancelled ? .cancelled : .backoffElapsed)
            }
        }
    }

    private func connectOnce(
        channels: [ChannelName],
        cursors: CursorTracker,
        onState: @escaping @Sendable (ConnectionState) async -> Void,
        onSubscribed: @escaping @Sendable (ChannelName, Int64) async -> Void,
        onEvent: @escaping @Sendable (Event) async throws -> Void,
        onOpen: @escaping @Sendable () -> Void
    ) async throws {
        let close = try await connect() { inbound, outbound, _ in
            for channel in channels {
                try await outbound.write(.text(Self.subscribeCommand(channel, since: cursors.offset(for: channel))))
            }
            for try await message in inbound.messages(maxSize: 1 << 22) {
                guard case .text(let text) = message, let value = try? JSONParser.parse(text) else { continue }
                switch value["op"]?.stringValue {
                case "welcome":
                    onOpen()
                    await onState(.open)
                case "subscribed":
                    guard let name = value["channel"]?.stringValue, let channel = try? ChannelName(name),
                        let head = value["offset"]?.intValue
                    else { continue }
                    if value["truncated"] == .bool(true) {
                        // The server continues from the earliest retained event (the cursor was older than
                        // retention, or beyond a replaced log): take what comes, whatever its offset.
                        cursors.forget(channel)
                    } else {
                        // A live start: remember the head, so a reconnect resumes from here, not from "now".
                        cursors.start(channel, at: head)
                    }
                    await onSubscribed(channel, head)
                case "event":
                    guard let event = Self.event(from: value) else { continue }
                    guard cursors.advance(event.channel, to: event.offset) else { continue }
                    try await onEvent(event)
                case "error":
                    if value["code"]?.stringValue == "forbidden" || value["code"]?.stringValue == "unauthorized" {
                        throw ClientError(message: value["message"]?.stringValue ?? "refused", isFatal: true)
                    }
                default:
                    continue
                }
            }
        }
        if Self.isFatal(close) {
            throw ClientError(message: "closed by the server: \(close?.reason ?? "")", isFatal: true)
        }
    }

    static func subscribeCommand(_ channel: ChannelName, since: Int64?) -> String {
        var out = "{\"op\":\"subscribe\",\"channel\":\"\(channel)\""
        if let since { out += ",\"since\":\(since)" }
        return out + "}"
    }

    /// Reads an event out of a server `event` message.
    static func event(from value: JSONValue) -> Event? {
        guard let id = value["id"]?.stringValue, let channelText = value["channel"]?.stringValue,
            let channel = try? ChannelName(channelText), let offset = value["offset"]?.intValue,
            let typeText = value["type"]?.stringValue, let type = try? EventType(typeText),
            let timeText = value["time"]?.stringValue, let time = Timestamp(rfc3339: timeText),
            let data = value["data"]
        else { return nil }
        return Event(
            id: EventID(stored: id),
            channel: channel,
            offset: offset,
            type: type,
            time: time,
            data: data.jsonText
        )
    }

    /// Opens one WebSocket to `/v1/ws` with the credential and runs `handler` on it; returns the
    /// server's close frame.
    @discardableResult
    func connect(
        maxFrameSize: Int = 1 << 22,
        handler: @escaping WebSocketDataHandler<WebSocketClient.Context>
    ) async throws -> WebSocketCloseFrame? {
        var headers = HTTPFields()
        if let credential { headers[.authorization] = "Bearer \(credential)" }
        return try await WebSocketClient.connect(
            url: webSocketURL,
            configuration: WebSocketClientConfiguration(maxFrameSize: maxFrameSize, additionalHeaders: headers),
            logger: logger,
            handler: handler
        )
    }

    /// Whether a close frame says that reconnecting cannot help (bad or expired credentials, forbidden).
    static func isFatal(_ close: WebSocketCloseFrame?) -> Bool {
        guard let close else { return false }
        return close.closeCode == .unknown(4001) || close.closeCode == .unknown(4003)
    }

    /// Publishes one event over WebSocket and returns its id and offset.
    public func publish(channel: ChannelName, type: EventType, data: JSONValue) async throws -> (
        id: String, offset: Int64
    ) {
        let result = ResultBox()
        let command =
            "{\"op\":\"publish\",\"ref\":1,\"channel\":\"\(channel)\",\"type\":\(JSONWriter.quoted(type.rawValue)),\"data\":\(data.jsonText)}"
        try await connect(maxFrameSize: 1 << 20) { inbound, outbound, _ in
            try await outbound.write(.text(command))
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message, let value = try? JSONParser.parse(text) else { continue }
                if value["op"]?.stringValue == "published", let id = value["id"]?.stringValue,
                    let offset = value["offset"]?.intValue
                {
                    result.set(.success((id, offset)))
                    try await outbound.close(.normalClosure, reason: nil)
                    return
                }
                if value["op"]?.stringValue == "error" {
                    result.set(.failure(ClientError(message: value["message"]?.stringValue ?? "error", isFatal: true)))
                    try await outbound.close(.normalClosure, reason: nil)
                    return
                }
            }
        }
        return try result.get()
    }
}

/// A connection state, as `Switchboard` in the browser reports it.
public enum ConnectionState: String, Sendable {
    case connecting, open, reconnecting, closed
}

/// A refusal or failure the client reports.
public struct ClientError: Error, CustomStringConvertible, Sendable {
    /// What happened.
    public let message: String
    /// Whether reconnecting cannot help (bad credentials, forbidden channel).
    public let isFatal: Bool

    /// The text form.
    public var description: String { message }
}
