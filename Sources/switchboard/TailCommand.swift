import ArgumentParser
import Foundation
import Logging
import SwitchboardClient
import SwitchboardCore

/// `switchboard tail CHANNEL… [--since OFFSET]`: prints events as they arrive, one JSON per line;
/// reconnects and resumes after a server restart.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tail", abstract: "Print events as they arrive.")

    @Argument(help: "Channels to follow.") var channels: [String]
    @Option(help: "Start after this offset on every channel (0: from the beginning of retention).") var since: Int64?
    @OptionGroup var client: ClientOptions

    func run() async throws {
        let names = try channels.map { try ChannelName($0) }
        guard !names.isEmpty else { throw ValidationError("name at least one channel") }
        var logger = Logger(label: "switchboard.tail")
        logger.logLevel = .warning
        let sdk = SwitchboardClient(baseURL: client.url, credential: client.credential, logger: logger)
        var start: [ChannelName: Int64] = [:]
        if let since { for name in names { start[name] = since } }
        try await sdk.follow(
            channels: names,
            since: start,
            onState: { state in
                if state != .open { FileHandle.standardError.write(Data("[\(state.rawValue)]\n".utf8)) }
            },
            onEvent: { event in
                print(event.canonicalJSON)
                Output.flush()
            }
        )
    }
}
