import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard endpoints …`: manage webhook endpoints and their deliveries over the HTTP API. Each
/// subcommand prints the API's JSON answer on one line.
struct EndpointsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoints",
        abstract: "Manage webhook endpoints and deliveries.",
        subcommands: [Add.self, List.self, Show.self, Deliveries.self, Retry.self, Replay.self, RotateSecret.self]
    )

    /// `endpoints add URL --channel PATTERN…`.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an endpoint; prints it with its secret.")

        @Argument(help: "Where to POST: an http:// or https:// URL.") var url: String
        @Option(name: .customLong("channel"), help: "Channel pattern (repeatable; default *).") var channels: [String] =
            []
        @Option(name: .customLong("type"), help: "Event type pattern (repeatable; default every type).") var types:
            [String] = []
        @Option(help: "A label for people.") var description: String?
        @Option(name: .customLong("rate-limit"), help: "Most deliveries per second.") var rateLimit: Int?
        @Flag(help: "One delivery in flight; each channel's events in offset order.") var ordered = false
        @Option(name: .customLong("header"), help: "Extra header 'Name: value' (repeatable).") var headers: [String] =
            []
        @Flag(help: "Sign with Ed25519 (v1a) instead of HMAC-SHA256 (v1).") var ed25519 = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            var members: [(String, JSONValue)] = [
                ("url", .string(url)), ("channels", .array((channels.isEmpty ? ["*"] : channels).map { .string($0) })),
                ("types", .array(types.map { .string($0) })), ("ordered", .bool(ordered)),
            ]
            if let description { members.append(("description", .string(description))) }
            if let rateLimit { members.append(("rateLimit", .int(Int64(rateLimit)))) }
            if ed25519 { members.append(("signing", .string("ed25519"))) }
            var fields: [(String, JSONValue)] = []
            for header in headers {
                guard let colon = header.firstIndex(of: ":") else {
                    throw ValidationError("--header takes 'Name: value'")
                }
                let value = header[header.index(after: colon)...].drop { $0 == " " }
                fields.append((String(header[..<colon]), .string(String(value))))
            }
            if !fields.isEmpty { members.append(("headers", .object(fields))) }
            print(try await client.call("POST", "/v1/endpoints", body: JSONValue.object(members).jsonText))
        }
    }

    /// `endpoints list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List endpoints.")
        @OptionGroup var client: ClientOptions

        func run() async throws {
            print(try await client.call("GET", "/v1/endpoints"))
        }
    }

    /// `endpoints show ID`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one endpoint.")
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            print(try await client.call("GET", "/v1/endpoints/\(try Path.segment(id))"))
        }
    }

    /// `endpoints deliveries ID [--status S] [--limit N] [--before DELIVERY]`.
    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An endpoint's deliveries with their attempts.")
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @Option(help: "pending, succeeded, failed or dead.") var status: String?
        @Option(help: "Page size (1-1000).") var limit: Int?
        @Option(help: "Deliveries older than this delivery id.") var before: String?
        @OptionGroup var client: ClientOptions

        func run() async throws {
            var query: [String] = []
            if let status { query.append("status=\(try Path.segment(status))") }
            if let limit { query.append("limit=\(limit)") }
            if let before { query.append("before=\(try Path.segment(before))") }
            let suffix = query.isEmpty ? "" : "?" + query.joined(separator: "&")
            print(try await client.call("GET", "/v1/endpoints/\(try Path.segment(id))/deliveries" + suffix))
        }
    }

    /// `endpoints retry DELIVERY`.
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make one more attempt of a delivery now.")
        @Argument(help: "Delivery id (dlv_…).") var delivery: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            print(try await client.call("POST", "/v1/deliveries/\(try Path.segment(delivery))/retry"))
        }
    }

    /// `endpoints replay ID --since TIME [--all]`.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enqueue an endpoint's deliveries again.")
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @Option(help: "RFC 3339 time: deliveries enqueued since then.") var since: String
        @Flag(help: "Every delivery, not only failed and dead ones.") var all = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            guard Timestamp(rfc3339: since) != nil else {
                throw ValidationError("--since takes an RFC 3339 time such as 2026-11-22T23:20:01.123Z")
            }
            let body = JSONValue.object([("since", .string(since)), ("status", .string(all ? "all" : "failed"))])
            print(try await client.call("POST", "/v1/endpoints/\(try Path.segment(id))/replay", body: body.jsonText))
        }
    }

    /// `endpoints rotate-secret ID`.
    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "Make a new signing secret; the old one keeps signing for 24 hours."
        )
        @Argument(help: "Endpoint id (ep_…).") var id: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            print(try await client.call("POST", "/v1/endpoints/\(try Path.segment(id))/rotate-secret"))
        }
    }
}

/// Values placed in a URL path or query.
enum Path {
    /// `value` when it is safe in a path segment (ids, statuses); refuses anything else.
    static func segment(_ value: String) throws -> String {
        guard !value.isEmpty,
            value.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            })
        else { throw ValidationError("\(value) is not a valid id") }
        return value
    }
}
