import Foundation

/// Where the PostgreSQL database is, read from a `postgres://user:password@host:port/database` URL
/// (`postgresql://` too). `?sslmode=disable` turns TLS off, `require` demands it; the default,
/// `prefer`, uses TLS when the server offers it. The password never appears in `description`.
public struct PostgresAddress: Hashable, Sendable, CustomStringConvertible {
    /// How the connection uses TLS.
    public enum TLSMode: String, Hashable, Sendable {
        /// Never TLS.
        case disable
        /// TLS when the server offers it.
        case prefer
        /// TLS or no connection.
        case require
    }

    /// The server's host name or address.
    public let host: String
    /// The server's port (5432 unless the URL says otherwise).
    public let port: Int
    /// The role to log in as.
    public let username: String
    /// The role's password, if the URL has one.
    public let password: String?
    /// The database (the role's name unless the URL names one).
    public let database: String
    /// How the connection uses TLS.
    public let tls: TLSMode

    /// Parses `url`; throws a message naming what is wrong.
    public init(url: String) throws(StoreError) {
        guard let components = URLComponents(string: url),
            components.scheme == "postgres" || components.scheme == "postgresql"
        else { throw StoreError("a database URL looks like postgres://user:password@host:5432/database") }
        guard let host = components.host, !host.isEmpty else {
            throw StoreError("the database URL names no host")
        }
        guard let username = components.user, !username.isEmpty else {
            throw StoreError("the database URL names no user")
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else { throw StoreError("the database URL's port is out of range") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] where item.name == "sslmode" {
            switch item.value {
            case "disable": tls = .disable
            case "prefer", "allow": tls = .prefer
            case "require", "verify-ca", "verify-full": tls = .require
            default: throw StoreError("sslmode must be disable, prefer or require")
            }
        }
        self.host = host
        self.port = port
        self.username = components.user.flatMap { $0.removingPercentEncoding } ?? username
        self.password = components.password.flatMap { $0.removingPercentEncoding }
        self.database = database.isEmpty ? self.username : database
        self.tls = tls
    }

    private init(host: String, port: Int, username: String, password: String?, database: String, tls: TLSMode) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// The same server and credentials, another database.
    public func with(database: String) -> PostgresAddress {
        PostgresAddress(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// The URL without its password.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }
}
