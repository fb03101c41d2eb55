import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard publish CHANNEL TYPE --data JSON`: publishes one event over the HTTP API.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "publish", abstract: "Publish one event.")

    @Argument(help: "Channel name.") var channel: String
    @Argument(help: "Event type.") var type: String
    @Option(help: "Event data as JSON.") var data: String = "null"
    @Option(name: .customLong("idempotency-key"), help: "Idempotency key (becomes the event id).") var idempotencyKey:
        String?
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let channelName = try ChannelName(channel)
        _ = try EventType(type)
        let payload: JSONValue
        do {
            payload = try JSONParser.parse(data)
        } catch {
            throw ValidationError("--data is not valid JSON: \(error)")
        }
        let text = try await client.call(
            "POST",
            "/v1/channels/\(channelName)/events",
            body: "{\"type\":\(JSONWriter.quoted(type)),\"data\":\(payload.jsonText)}",
            headers: idempotencyKey.map { ["Idempotency-Key": $0] } ?? [:]
        )
        print(text)
    }
}
