import NIOCore
import SwitchboardCore
import SwitchboardEngine
import SwitchboardStore

/// The Pusher protocol (version 7) on `/app/{key}`: the same connection, limits, catch-up and
/// deliveries as Switchboard's own protocol, with Pusher's messages. A Pusher channel is the
/// Switchboard channel of the same name (`PusherChannel`); names with a `:` belong to Switchboard's
/// namespaces and tokens and are refused here. Public channels are open to anyone with the app's
/// key; `private-` channels need the app's signature over the socket id and the channel.
extension WebSocketConnection {
    /// Seconds a Pusher client may stay silent before it pings (`activity_timeout`).
    static let pusherActivityTimeout = 120

    /// Decodes and runs one Pusher client message.
    func handlePusherText(_ message: ByteBuffer) {
        guard let app = pusherApp else { return }
        guard let json = try? JSONParser.parse(Array(message.readableBytesView)),
            let event = json["event"]?.stringValue
        else {
            return send(PusherMessage.error("messages are JSON objects with an \"event\"", code: nil))
        }
        switch event {
        case "pusher:ping":
            send(PusherMessage.pong)
        case "pusher:pong":
            break
        case "pusher:subscribe":
            pusherSubscribe(Self.pusherData(of: json), app: app)
        case "pusher:signin":
            pusherSignIn(Self.pusherData(of: json), app: app)
        case "pusher:unsubscribe":
            guard let name = Self.pusherData(of: json)["channel"]?.stringValue,
                let channel = try? PusherChannel.name(name)
            else { return }
            // One still being set up (a presence or cache channel's first read) is dropped too.
            if subscriptions[channel] == nil { pusherChannels[channel] = nil }
            if endSubscription(channel) { updateMailbox() }
        default:
            if event.hasPrefix("client-") {
                pusherClientEvent(event, on: json["channel"]?.stringValue, data: json["data"], app: app)
            } else {
                send(PusherMessage.error("unknown event \(event.prefix(64))", code: nil))
            }
        }
    }

    /// `pusher:subscribe`: the channel, its signature when it is private, and Switchboard's own
    /// extension, `since` (an offset), to resume after what the client last received.
    private func pusherSubscribe(_ data: JSONValue, app: PusherApp) {
        guard let name = data["channel"]?.stringValue else {
            return send(PusherMessage.error("pusher:subscribe needs a channel", code: nil))
        }
        let channel: ChannelName
        do throws(SwitchboardError) {
            channel = try PusherChannel.name(name)
            guard !name.contains(":") else {
                throw SwitchboardError(.forbidden, "channels with a : belong to Switchboard's namespaces")
            }
            let isPresence = name.hasPrefix("presence-")
            if isPresence || name.hasPrefix("private-") {
                let expected = PusherSignature.channelAuth(
                    key: app.key,
                    secret: app.secretBytes,
                    socketID: pusherSocketID,
                    channel: name,
                    channelData: isPresence ? (data["channel_data"]?.stringValue ?? "") : nil
                )
                guard let auth = data["auth"]?.stringValue, PusherSignature.matches(auth, expected: expected) else {
                    engine.metrics.refused(by: "pusher_channel_auth")
                    throw SwitchboardError(.unauthorized, "the channel's auth signature does not match")
                }
            }
        } catch {
            let status = error.code == .unauthorized ? 401 : error.code == .forbidden ? 403 : 400
            return send(PusherMessage.subscriptionError(channel: name, message: error.detail, status: status))
        }
        var since: Int64?
        if let value = data["since"] {
            guard let offset = value.intValue, offset >= 0 else {
                return send(
                    PusherMessage.subscriptionError(channel: name, message: "since must be an offset", status: 400)
                )
            }
            since = offset
        }
        // A repeated subscribe of a channel already held is answered as Pusher does: success again.
        guard subscriptions[channel] == nil, pusherChannels[channel] == nil else {
            return send(PusherMessage.subscriptionSucceeded(channel: channel))
        }
        var member: (id: String, info: JSONValue?)?
        if name.hasPrefix("presence-") {
            do throws(SwitchboardError) {
                member = try Self.presenceMember(data["channel_data"]?.stringValue ?? "")
            } catch {
                return send(PusherMessage.subscriptionError(channel: name, message: error.detail, status: 400))
            }
            // Each join (and its leave) is a durable event: churning subscriptions may not flood the log.
            guard presenceBucket.take(at: engine.ambient.monotonicClock()) else {
                engine.metrics.refused(by: "presence_join_rate")
                return send(
                    PusherMessage.subscriptionError(channel: name, message: "too many presence joins", status: 429)
                )
            }
        }
        // A cache channel starts with its last event (unless the client resumes with `since`).
        let readsLast = Self.isCacheChannel(name) && since == nil
        guard member != nil || readsLast else { return subscribe(channel, since: since, ref: nil, isAuthorized: true) }
        // Subscriptions still being set up count against the per-connection limit too.
        let maximum = engine.configuration.limits.maximumSubscriptionsPerConnection
        let settingUp = pusherChannels.keys.reduce(0) { $0 + (subscriptions[$1] == nil ? 1 : 0) }
        guard subscriptions.count + settingUp < maximum else {
            engine.metrics.refused(by: "subscriptions")
            return send(
                PusherMessage.subscriptionError(
                    channel: name,
                    message: "at most \(maximum) subscriptions per connection",
                    status: 429
                )
            )
        }
        pusherChannels[channel] = (member?.id, nil)
        let (presence, log, loop) = (engine.presence, engine.log, eventLoop)
        Task {
            var listed: [String]? = []
            if member != nil { listed = try? await presence.members(of: channel) }
            var head: Int64? = 0
            if readsLast { head = try? await log.head(of: channel) }
            loop.execute {
                self.startPusherSubscription(channel, as: member, listed: listed, head: head, since: since)
            }
        }
    }

    /// Whether a Pusher channel is a cache channel (`cache-`, `private-cache-`, `presence-cache-`).
    static func isCacheChannel(_ name: String) -> Bool {
        name.hasPrefix("cache-") || name.hasPrefix("private-cache-") || name.hasPrefix("presence-cache-")
    }

    /// Subscribes once what the first answer needs is read: a presence channel's members (with this
    /// connection's user among them, which then joins), a cache channel's head (its last event is
    /// delivered first, or `pusher:cache_miss` follows the success when it has none).
    private func startPusherSubscription(
        _ channel: ChannelName,
        as member: (id: String, info: JSONValue?)?,
        listed: [String]?,
        head: Int64?,
        since: Int64?
    ) {
        guard !isClosing, pusherChannels[channel] != nil, subscriptions[channel] == nil else { return }
        guard let listed, let head else {
            pusherChannels[channel] = nil
            let what = listed == nil ? "presence is unavailable" : "the event log is unavailable"
            return send(PusherMessage.subscriptionError(channel: channel.rawValue, message: what, status: 503))
        }
        var first: [String]
        if let member {
            var members: [(id: String, info: JSONValue?)] = listed.compactMap { json in
                guard let parsed = try? JSONParser.parse(json), let user = parsed["user"]?.stringValue else {
                    return nil
                }
                return (user, parsed["info"])
            }
            if !members.contains(where: { $0.id == member.id }) { members.append(member) }
            first = [PusherMessage.presenceSucceeded(channel: channel, members: members)]
        } else {
            first = [PusherMessage.subscriptionSucceeded(channel: channel)]
        }
        var start = since
        if Self.isCacheChannel(channel.rawValue), since == nil {
            if head > 0 { start = head - 1 } else { first.append(PusherMessage.cacheMiss(channel: channel)) }
        }
        pusherChannels[channel] = (member?.id, first)
        subscribe(channel, since: start, ref: nil, isAuthorized: true)
        guard subscriptions[channel] != nil else {
            pusherChannels[channel] = nil
            return
        }
        guard let member else { return }
        presentIn.insert(channel)
        engine.presence.join(
            channel,
            member: PresenceMember(client: clientID, user: member.id, info: member.info),
            watcher: self
        )
    }

    /// The member a presence subscription's `channel_data` names: `user_id` (a string or an integer)
    /// and the optional `user_info`, at most 1 KiB of it as Pusher allows.
    static func presenceMember(_ channelData: String) throws(SwitchboardError) -> (id: String, info: JSONValue?) {
        guard channelData.utf8.count <= 2048, let parsed = try? JSONParser.parse(channelData) else {
            throw SwitchboardError(.badRequest, "channel_data must be a JSON object of at most 2 KiB")
        }
        let id: String
        switch parsed["user_id"] {
        case .string(let text)? where !text.isEmpty && text.utf8.count <= 128: id = text
        case let value? where value.intValue != nil: id = String(value.intValue ?? 0)
        default:
            throw SwitchboardError(.badRequest, "channel_data needs a user_id (a string of 1–128 bytes or an integer)")
        }
        let info = parsed["user_info"]
        guard (info?.jsonText.utf8.count ?? 0) <= 1024 else {
            throw SwitchboardError(.badRequest, "user_info is limited to 1 KiB")
        }
        return (id, info)
    }

    /// `pusher:signin`: the user data signed by the application's user authentication endpoint
    /// (`socket_id::user::user_data`) names the connection's user, whom `terminate_connections` (and
    /// `DELETE /v1/users/{user}/connections`) can then disconnect. Once per connection.
    private func pusherSignIn(_ data: JSONValue, app: PusherApp) {
        guard registeredUser == nil else {
            return send(PusherMessage.error("this connection is signed in already", code: nil))
        }
        guard let userData = data["user_data"]?.stringValue, userData.utf8.count <= 4096,
            let user = (try? JSONParser.parse(userData))?["id"]?.stringValue, !user.isEmpty, user.utf8.count <= 128
        else {
            return send(
                PusherMessage.error("pusher:signin needs user_data: JSON text with an id of 1–128 bytes", code: nil)
            )
        }
        let expected = PusherSignature.userAuth(
            key: app.key,
            secret: app.secretBytes,
            socketID: pusherSocketID,
            userData: userData
        )
        guard let auth = data["auth"]?.stringValue, PusherSignature.matches(auth, expected: expected) else {
            engine.metrics.refused(by: "pusher_signin")
            return close(.unauthorized, reason: "the sign-in's auth signature does not match")
        }
        do {
            try engine.connections.attach(self, user: user)
        } catch {
            engine.metrics.refused(by: "connections_per_user")
            return close(.rateLimited, reason: error.detail)
        }
        registeredUser = user
        send(PusherMessage.signinSuccess(userData: userData))
    }

    /// Bound on the own client events remembered until they come back (a sender past it may see one).
    static let maximumOwnPusherEvents = 256

    /// A `client-` event: on a private or presence channel this connection holds, when the app allows
    /// them. It is published like any event (durable, seen by native clients and webhooks), with an
    /// id of its own so that the sender is left out when it comes back.
    private func pusherClientEvent(_ name: String, on channelName: String?, data: JSONValue?, app: PusherApp) {
        guard app.clientEvents else {
            return send(PusherMessage.error("client events are not enabled for this app", code: nil))
        }
        guard let channelName, channelName.hasPrefix("private-") || channelName.hasPrefix("presence-"),
            let channel = try? PusherChannel.name(channelName), subscriptions[channel] != nil
        else {
            return send(
                PusherMessage.error(
                    "client events go to a private or presence channel this connection holds",
                    code: nil
                )
            )
        }
        let text: String
        switch data {
        case .string(let value)?: text = value
        case let value?: text = value.jsonText
        case nil: text = "{}"
        }
        let stored = PusherData.stored(from: text)
        let type: EventType
        do throws(SwitchboardError) {
            type = try EventType(name)
            let limit = engine.configuration.limits.maximumDataBytes
            guard stored.utf8.count <= limit else {
                throw SwitchboardError(.tooLarge, "the event's data is over \(limit) bytes")
            }
        } catch {
            return sendError(error, ref: nil)
        }
        guard takePublishToken(ref: nil) else { return }
        var generator = engine.ambient.randomNumberGenerator
        // On a presence channel the others learn who sent it (Pusher's `user_id`), from the event's id.
        let user = channelName.hasPrefix("presence-") ? pusherChannels[channel]?.user : nil
        let id = PusherWebhook.clientEventID(socketID: pusherSocketID, user: user, using: &generator)
        leaveOut([id.rawValue])
        let draft = EventDraft(
            channel: channel,
            type: type,
            data: stored,
            idempotencyKey: id,
            origin: .client(user: pusherChannels[channel]?.user)
        )
        let loop = eventLoop
        engine.publisher.publish([draft]) { result in
            guard case .failure(let error) = result else { return }
            loop.execute {
                self.pusherOwnEvents.removeAll { $0 == id.rawValue }
                self.sendError(error, ref: nil)
            }
        }
    }

    /// Remembers events this connection must not receive (its own client events, a trigger's
    /// `socket_id`), the oldest forgotten past the bound.
    func leaveOut(_ ids: [String]) {
        for id in ids {
            if pusherOwnEvents.count >= Self.maximumOwnPusherEvents { pusherOwnEvents.removeFirst() }
            pusherOwnEvents.append(id)
        }
    }

    /// Whether `event` is one this connection leaves out, coming back (then forgotten).
    func isOwnPusherEvent(_ event: Event) -> Bool {
        guard !pusherOwnEvents.isEmpty, let index = pusherOwnEvents.firstIndex(of: event.id.rawValue) else {
            return false
        }
        pusherOwnEvents.remove(at: index)
        return true
    }

    /// A message's `data`: an object, or (as some clients send it) JSON text of one.
    private static func pusherData(of message: JSONValue) -> JSONValue {
        switch message["data"] {
        case .object?: message["data"] ?? .null
        case .string(let text)?: (try? JSONParser.parse(text)) ?? .null
        default: .null
        }
    }

    /// The code of a `pusher:error` for a refusal: Pusher's 4009 (not authorised) and 4301 (rate
    /// limited), none for the rest.
    static func pusherErrorCode(_ error: SwitchboardError) -> Int? {
        switch error.code {
        case .unauthorized, .forbidden: 4009
        case .rateLimited: 4301
        default: nil
        }
    }

    /// Pusher clients decide from the close code whether to reconnect: 4000–4099 never, 4100–4199
    /// after a back-off, 4200–4299 at once. Switchboard's own codes are mapped so that a slow consumer
    /// or a rate-limited client comes back (after a pause) and a refused one does not.
    static func pusherCloseCode(_ code: CloseCode) -> UInt16 {
        switch code {
        case .slowConsumer: 4200
        case .rateLimited: 4100
        case .unauthorized: 4009
        case .forbidden: 4009
        case .normal, .goingAway, .policy, .frameTooBig, .internalError, .restarting: code.rawValue
        }
    }
}
