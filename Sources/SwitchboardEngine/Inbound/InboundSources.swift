import Logging
public import SwitchboardCore
public import SwitchboardStore

/// The inbound sources: those of the configuration file (read-only) and those made through the API
/// (stored), with the latest requests each received, newest first, for inspection.
public actor InboundSources {
    /// Where a source's settings live.
    public enum Origin: String, Sendable {
        /// The configuration file: changed by editing it and restarting.
        case configuration = "config"
        /// The API and the store.
        case api
    }

    /// How many requests each source's log keeps.
    public static let requestLogLength = 100

    private let configured: [String: InboundSource]
    private let store: any AdminStore
    private var stored: [String: InboundSource]?
    private var requestLogs: [String: [InboundRequestRecord]] = [:]

    /// Makes the registry; stored sources are read on first use.
    public init(configured: [InboundSource], store: any AdminStore) {
        self.configured = Dictionary(configured.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
    }

    /// The source `name` and where it lives; nil when there is none.
    public func source(named name: String) async throws -> (source: InboundSource, origin: Origin)? {
        if let source = configured[name] { return (source, .configuration) }
        return try await storedSources()[name].map { ($0, .api) }
    }

    /// Every source, by name.
    public func all() async throws -> [(source: InboundSource, origin: Origin)] {
        let stored = try await storedSources()
        let merged = configured.mapValues { ($0, Origin.configuration) }
            .merging(stored.mapValues { ($0, Origin.api) }, uniquingKeysWith: { configured, _ in configured })
        return merged.values.sorted { $0.0.name < $1.0.name }.map { (source: $0.0, origin: $0.1) }
    }

    /// Stores a new source; `conflict` when the name is taken.
    public func create(_ source: InboundSource, at time: Timestamp) async throws {
        guard configured[source.name] == nil else {
            throw SwitchboardError(.conflict, "source \(source.name) exists in the configuration file")
        }
        _ = try await storedSources()
        guard try await store.insertSource(source, at: time) else {
            throw SwitchboardError(.conflict, "source \(source.name) exists")
        }
        stored?[source.name] = source
    }

    /// Changes the stored source `name` with `change` and returns the result. The change applies to the
    /// latest version: concurrent changes never start from the same one, so none is lost.
    public func update(
        name: String,
        at time: Timestamp,
        _ change: @Sendable (InboundSource) throws -> InboundSource
    ) async throws -> InboundSource {
        try refuseConfigured(name)
        guard let base = try await storedSources()[name] else { throw Self.notFound(name) }
        let changed = try change(base)
        // Recorded before the write's suspension, so that the next change starts from this one.
        stored?[name] = changed
        do {
            guard try await store.updateSource(changed, at: time) else { throw Self.notFound(name) }
        } catch {
            if stored?[name] == changed { stored?[name] = base }
            throw error
        }
        return changed
    }

    /// Removes a stored source and its request log.
    public func delete(name: String) async throws {
        try refuseConfigured(name)
        guard try await store.deleteSource(name: name) else { throw Self.notFound(name) }
        stored?[name] = nil
        requestLogs[name] = nil
    }

    /// Adds `record` to `name`'s request log, dropping the oldest past `requestLogLength`.
    public func record(_ record: InboundRequestRecord, for name: String) {
        requestLogs[name, default: []].append(record)
        if let count = requestLogs[name]?.count, count > Self.requestLogLength {
            requestLogs[name]?.removeFirst(count - Self.requestLogLength)
        }
    }

    /// `name`'s latest requests, newest first.
    public func requests(of name: String) -> [InboundRequestRecord] {
        (requestLogs[name] ?? []).reversed()
    }

    /// The error for a source that does not exist.
    public static func notFound(_ name: String) -> SwitchboardError {
        SwitchboardError(.notFound, "no source named \(JSONWriter.quoted(name))")
    }

    private func refuseConfigured(_ name: String) throws(SwitchboardError) {
        guard configured[name] == nil else {
            throw SwitchboardError(.conflict, "source \(name) comes from the configuration file; change it there")
        }
    }

    private func storedSources() async throws -> [String: InboundSource] {
        if let stored { return stored }
        let loaded = Dictionary(
            try await store.listSources().map { ($0.name, $0) },
            uniquingKeysWith: { first, _ in first }
        )
        stored = loaded
        return loaded
    }
}
