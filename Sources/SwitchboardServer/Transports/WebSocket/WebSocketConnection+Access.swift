import NIOCore
import SwitchboardCore
import SwitchboardEngine

/// Who the connection is and what that allows: applying a (fresh) principal, the token's expiry, the
/// per-user limit, presence membership and the administrator's disconnect.
extension WebSocketConnection: PresenceWatcher, RegisteredConnection {
    /// Applies a principal from an `auth` frame or the upgrade's credential. A refreshed token must be
    /// for the same user; subscriptions it no longer allows are ended with a `forbidden` error.
    func apply(_ newPrincipal: Principal, ref: JSONValue?, isInitial: Bool) {
        if let current = principal.user, newPrincipal.user != current {
            return sendError(SwitchboardError(.forbidden, "a refreshed token must be for the same user"), ref: ref)
        }
        if let user = newPrincipal.user, registeredUser == nil {
            do {
                try engine.connections.attach(self, user: user)
                registeredUser = user
            } catch {
                engine.metrics.refused(by: "connections_per_user")
                return close(.rateLimited, reason: error.detail)
            }
        }
        let gainsUser = principal.user == nil && newPrincipal.user != nil
        principal = newPrincipal
        scheduleExpiry()
        if isInitial {
            becomeReady()
        } else {
            send(ServerMessage.authed(user: principal.user, expires: principal.expires, ref: ref))
            dropSubscriptionsNoLongerAllowed()
            // An anonymous subscriber that now has a user becomes a member where presence is kept.
            if gainsUser { for channel in subscriptions.keys.sorted() { joinPresence(channel) } }
        }
    }

    /// Closes with 4001 when the token expires, unless an `auth` frame brought a fresh one by then.
    private func scheduleExpiry() {
        expiryTimer?.cancel()
        expiryTimer = nil
        guard let expires = principal.expires, let context else { return }
        guard let delay = TokenExpiryWait.delay(until: expires, now: engine.ambient.wallClock()) else {
            return close(.unauthorized, reason: "token expired")
        }
        expiryTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.expiryTimer = nil
            self.scheduleExpiry()
        }
    }

    private func dropSubscriptionsNoLongerAllowed() {
        let access = engine.configuration.accessPolicy
        for channel in subscriptions.keys.sorted() {
            do {
                try access.authorizeSubscribe(principal, to: channel)
            } catch {
                endSubscription(channel)
                send(ServerMessage.unsubscribed(channel: channel, ref: nil))
                sendError(error, ref: nil)
            }
        }
        updateMailbox()
    }

    /// Joins `channel`'s presence when its namespace keeps presence and the connection has a user.
    func joinPresence(_ channel: ChannelName) {
        guard let user = principal.user, engine.configuration.namespaces.keepsPresence(channel) else { return }
        presentIn.insert(channel)
        engine.presence.join(
            channel,
            member: PresenceMember(client: clientID, user: user, info: principal.info),
            watcher: self
        )
    }

    /// Leaves `channel`'s presence, if a member.
    func leavePresence(_ channel: ChannelName) {
        let pusherUser = pusherChannels.removeValue(forKey: channel)?.user
        guard presentIn.remove(channel) != nil, let user = principal.user ?? pusherUser else { return }
        engine.presence.leave(channel, client: clientID, user: user)
    }

    /// Answers the `presence` op: the members of a channel the connection may read.
    func presence(_ channel: ChannelName, ref: JSONValue?) {
        do {
            try engine.configuration.accessPolicy.authorizeSubscribe(principal, to: channel)
            try engine.configuration.namespaces.requirePresence(channel)
        } catch {
            return sendError(error, ref: ref)
        }
        guard !isPresenceInFlight else {
            return sendError(
                SwitchboardError(
                    .rateLimited,
                    "one presence request at a time: wait for the reply",
                    retryAfterSeconds: 1
                ),
                ref: ref
            )
        }
        isPresenceInFlight = true
        let presence = engine.presence
        let loop = eventLoop
        Task {
            let answer: Result<String, SwitchboardError>
            do throws(SwitchboardError) {
                answer = .success(try await presence.membersJSON(of: channel, op: true, ref: ref))
            } catch {
                answer = .failure(error)
            }
            loop.execute {
                self.isPresenceInFlight = false
                switch answer {
                case .success(let text): self.send(text)
                case .failure(let error): self.sendError(error, ref: ref)
                }
            }
        }
    }

    /// Takes one publish token; false (and an error sent) when the connection publishes too fast.
    func takePublishToken(ref: JSONValue?) -> Bool {
        guard var bucket = publishBucket else { return true }
        defer { publishBucket = bucket }
        guard bucket.take(at: engine.ambient.monotonicClock()) else {
            engine.metrics.refused(by: "connection_publish_rate")
            sendError(
                SwitchboardError(
                    .rateLimited,
                    "at most \(engine.configuration.limits.connectionPublishRate) publishes a second per connection",
                    retryAfterSeconds: bucket.retryAfterSeconds()
                ),
                ref: ref
            )
            return false
        }
        return true
    }

    /// Gives back the connection's places: its address and user counts, presence, the expiry timer.
    /// Leaves every channel's presence and stops watching the token's expiry: the connection is ending.
    func leaveAllPresence() {
        expiryTimer?.cancel()
        expiryTimer = nil
        for channel in presentIn.sorted() { leavePresence(channel) }
    }

    /// Gives back the connection's places in the per-user and per-address limits: its socket is closed.
    func releaseAccess() {
        leaveAllPresence()
        engine.connections.leave(self, user: registeredUser, address: admittedAddress)
        registeredUser = nil
        admittedAddress = nil
    }

    // MARK: Called from other threads

    func presenceChanged(_ frame: String) {
        if pusherApp != nil {
            guard let message = PusherMessage.presenceChange(fromSwitchboardFrame: frame) else { return }
            eventLoop.execute { self.send(message) }
        } else {
            eventLoop.execute { self.send(frame) }
        }
    }

    func disconnect(_ code: CloseCode, reason: String) {
        eventLoop.execute { self.close(code, reason: reason) }
    }
}
