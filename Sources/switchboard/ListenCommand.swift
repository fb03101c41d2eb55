import ArgumentParser
import Foundation
import Logging
import SwitchboardClient
import SwitchboardCore
import SwitchboardEngine
import UnixSignals

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `switchboard listen --forward-to URL [--channel PATTERN]…`: a developer's local app receives the
/// server's events as signed webhooks without a public URL. A temporary `relay://listen` endpoint is
/// registered; the server delivers to it (signed, recorded, retried) over this command's WebSocket,
/// and each delivery is forwarded to the local URL with the exact headers and body.
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Forward events as signed webhooks to a local URL."
    )

    @Option(name: .customLong("forward-to"), help: "Local URL to POST each webhook to.") var forwardTo: String
    @Option(name: .customLong("channel"), help: "Channel pattern (repeatable; default *).") var channels: [String] = []
    @Option(name: .customLong("type"), help: "Event type pattern (repeatable; default every type).") var types:
        [String] =
            []
    @OptionGroup var client: ClientOptions

    func run() async throws {
        guard let target = URL(string: forwardTo), ["http", "https"].contains(target.scheme?.lowercased() ?? "") else {
            throw ValidationError("--forward-to takes an http:// or https:// URL")
        }
        let patterns = channels.isEmpty ? ["*"] : channels
        let create = JSONValue.object([
            ("url", .string(EndpointSettings.relayURL)), ("channels", .array(patterns.map { .string($0) })),
            ("types", .array(types.map { .string($0) })), ("description", .string("switchboard listen → \(forwardTo)")),
        ])
        let created = try JSONParser.parse(try await client.call("POST", "/v1/endpoints", body: create.jsonText))
        guard let endpoint = created["id"]?.stringValue, let secret = created["secret"]?.stringValue else {
            throw ValidationError("the server did not return an endpoint")
        }
        Self.say("Ready: forwarding \(patterns.joined(separator: ", ")) to \(forwardTo) (endpoint \(endpoint))")
        Self.say("Your webhook signing secret is \(secret)")

        var logger = Logger(label: "switchboard.listen")
        logger.logLevel = .warning
        let sdk = SwitchboardClient(baseURL: client.url, credential: client.credential, logger: logger)
        // Like a real delivery, a redirect is an answer, not an instruction.
        let session = URLSession(configuration: .ephemeral, delegate: RedirectRefusal(), delegateQueue: nil)
        let listening = Task {
            try await sdk.listen(
                endpoint: endpoint,
                onState: { state in if state != .open { Self.say("[\(state.rawValue)]") } },
                onWebhook: { webhook in await Self.forward(webhook, to: target, session: session) }
            )
        }
        // Until Ctrl-C (or SIGTERM): then remove the temporary endpoint before exiting.
        for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
        listening.cancel()
        _ = try? await listening.value
        if (try? await client.call("DELETE", "/v1/endpoints/\(endpoint)")) != nil {
            Self.say("Stopped; endpoint \(endpoint) removed")
        } else {
            Self.say(
                "Stopped; endpoint \(endpoint) could not be removed: delete it with DELETE /v1/endpoints/\(endpoint)"
            )
        }
    }

    /// POSTs one relayed webhook to the local app and reports its answer.
    static func forward(_ webhook: RelayedWebhook, to target: URL, session: URLSession) async -> RelayAnswer {
        var request = URLRequest(url: target, timeoutInterval: 10)
        request.httpMethod = "POST"
        for (name, value) in webhook.headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(webhook.body.utf8)
        let type = (try? JSONParser.parse(webhook.body))?["type"]?.stringValue ?? "?"
        let id = webhook.headers.first { $0.0 == "webhook-id" }?.1 ?? "?"
        do {
            let (data, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            print("\(Engine.wallClock()) \(type) [\(id)] → \(status)")
            Output.flush()
            return RelayAnswer(status: status, error: nil, body: String(decoding: data.prefix(4096), as: UTF8.self))
        } catch {
            print("\(Engine.wallClock()) \(type) [\(id)] → error: \(error.localizedDescription)")
            Output.flush()
            return RelayAnswer(
                status: nil,
                error: "the local app could not be reached: \(error.localizedDescription)",
                body: nil
            )
        }
    }

    static func say(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Answers every redirect with the redirect itself, as the server's deliveries do.
final class RedirectRefusal: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession,
        task: URLSessionTask,
        willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
