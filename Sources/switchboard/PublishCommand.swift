import ArgumentParser
import Foundation
import SwitchboardCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

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
        guard let url = URL(string: "\(client.url)/v1/channels/\(channelName)/events") else {
            throw ValidationError("--url is not a valid URL")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let credential = client.credential {
            request.setValue("Bearer \(credential)", forHTTPHeaderField: "Authorization")
        }
        if let idempotencyKey { request.setValue(idempotencyKey, forHTTPHeaderField: "Idempotency-Key") }
        request.httpBody = Data("{\"type\":\(JSONWriter.quoted(type)),\"data\":\(payload.jsonText)}".utf8)
        let (body, response) = try await URLSession.shared.data(for: request)
        let text = String(decoding: body, as: UTF8.self)
        guard let status = (response as? HTTPURLResponse)?.statusCode, (200..<300).contains(status) else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
            throw ExitCode(1)
        }
        print(text)
    }
}
