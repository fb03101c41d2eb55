import AsyncHTTPClient
import FoundationEssentials
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchboardCore

/// The HTTP clients deliveries go out on. Unless private targets are allowed, a target's host name is
/// resolved here, the address is checked against `TargetAddressPolicy`, and the connection is pinned to
/// that very address (the client connects to it while still sending the host name for TLS and `Host`),
/// so a DNS answer that changes between the check and the connection cannot reach a private address.
final class WebhookTargets: Sendable {
    /// Why a target was not contacted.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    private struct Pin {
        let address: String
        let client: HTTPClient
        let resolvedAt: ContinuousClock.Instant
    }

    private let policy: TargetAddressPolicy
    private let timeout: Duration
    /// Used for every target when private targets are allowed (nothing to pin).
    private let unpinned: HTTPClient?
    private let pins = NIOLockedValueBox<[String: Pin]>([:])
    private let retired = NIOLockedValueBox<[HTTPClient]>([])
    /// How long a checked address is used before the name is resolved again.
    private let pinLifetime: Duration = .seconds(60)

    private let connectionsPerHost: Int
    /// Name lookups block a thread (getaddrinfo) for as long as DNS takes to answer: they run on
    /// threads of their own, so that targets whose names resolve slowly or never cannot take the
    /// shared pool's threads, which the store's reads need.
    private let resolver = NIOThreadPool(numberOfThreads: 4)
    /// The blocking lookup itself (getaddrinfo; a test's own to hold a lookup open).
    private let lookup: @Sendable (_ host: String, _ port: Int) throws -> SocketAddress

    init(
        allowsPrivate: Bool,
        timeout: Duration,
        connectionsPerHost: Int,
        lookup: @escaping @Sendable (_ host: String, _ port: Int) throws -> SocketAddress = {
            try SocketAddress.makeAddressResolvingHost($0, port: $1)
        }
    ) {
        resolver.start()
        self.lookup = lookup
        self.policy = TargetAddressPolicy(allowsPrivate: allowsPrivate)
        self.timeout = timeout
        self.connectionsPerHost = connectionsPerHost
        self.unpinned =
            allowsPrivate
            ? Self.makeClient(pinning: nil, timeout: timeout, connectionsPerHost: connectionsPerHost) : nil
    }

    /// The client to use for `url`, after checking where it leads.
    func client(for url: URL) async throws -> HTTPClient {
        if let unpinned { return unpinned }
        guard let host = url.host, !host.isEmpty else { throw Refusal(description: "the URL has no host") }
        let port = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
        let key = "\(host):\(port)"
        let now = ContinuousClock.now
        if let pin = pins.withLockedValue({ $0[key] }), now - pin.resolvedAt < pinLifetime {
            return pin.client
        }
        let address = try await resolve(host: host, port: port)
        if let reason = policy.refusal(for: Self.bytes(of: address)) {
            throw Refusal(
                description:
                    "\(host) resolves to \(address.ipAddress ?? "?"), \(reason); such targets are refused unless webhooks.allow_private_targets is set"
            )
        }
        guard let ip = address.ipAddress else { throw Refusal(description: "\(host) did not resolve to an IP address") }
        let (client, retiring) = pins.withLockedValue { pins -> (HTTPClient, HTTPClient?) in
            if let existing = pins[key], existing.address == ip {
                pins[key] = Pin(address: ip, client: existing.client, resolvedAt: now)
                return (existing.client, nil)
            }
            let client = Self.makeClient(pinning: (host, ip), timeout: timeout, connectionsPerHost: connectionsPerHost)
            let old = pins[key]?.client
            pins[key] = Pin(address: ip, client: client, resolvedAt: now)
            return (client, old)
        }
        if let retiring {
            // Attempts still running on the old client finish within the timeout; then it goes.
            retired.withLockedValue { $0.append(retiring) }
            let grace = timeout * 2
            Task {
                try? await Task.sleep(for: grace)
                let due = retired.withLockedValue { retired -> Bool in
                    guard let index = retired.firstIndex(where: { $0 === retiring }) else { return false }
                    retired.remove(at: index)
                    return true
                }
                if due { try? await retiring.shutdown() }
            }
        }
        return client
    }

    /// Shuts every client down.
    func shutdown() async {
        let clients =
            pins.withLockedValue { pins in
                defer { pins.removeAll() }
                return pins.values.map(\.client)
            }
            + retired.withLockedValue { retired in
                defer { retired.removeAll() }
                return retired
            } + (unpinned.map { [$0] } ?? [])
        for client in clients {
            try? await client.shutdown()
        }
        // Not awaited: a lookup still waiting for DNS must not hold up the server's exit.
        resolver.shutdownGracefully { _ in }
    }

    private func resolve(host: String, port: Int) async throws -> SocketAddress {
        do {
            // getaddrinfo blocks: run it on the resolver's threads, never on an event loop.
            let lookup = lookup
            return try await resolver.runIfActive { try lookup(host, port) }
        } catch {
            throw Refusal(description: "cannot resolve \(host): \(error)")
        }
    }

    private static func makeClient(
        pinning: (host: String, address: String)?,
        timeout: Duration,
        connectionsPerHost: Int
    ) -> HTTPClient {
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.idleTimeout = .seconds(60)
        // Enough connections for every attempt that may be in flight to one host.
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, connectionsPerHost)
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .milliseconds(timeout.wholeMilliseconds)),
            connectionPool: pool,
            decompression: .disabled
        )
        if let pinning { configuration.dnsOverride = [pinning.host: pinning.address] }
        return HTTPClient(
            eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton),
            configuration: configuration
        )
    }

    /// The 4 or 16 bytes of an IP socket address.
    /// `sockaddr_in` keeps the address at byte 4, `sockaddr_in6` at byte 8 (after family, port, flow).
    static func bytes(of address: SocketAddress) -> [UInt8] {
        let (offset, count): (Int, Int)
        switch address {
        case .v4: (offset, count) = (4, 4)
        case .v6: (offset, count) = (8, 16)
        default: return []
        }
        return address.withSockAddr { pointer, size in
            guard size >= offset + count else { return [] }
            return Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer) + offset, count: count))
        }
    }
}
