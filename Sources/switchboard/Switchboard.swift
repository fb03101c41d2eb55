import ArgumentParser

/// The `switchboard` command: run the server, publish, tail, manage webhook endpoints, listen.
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A self-hosted event gateway: WebSocket, SSE, long-poll and webhooks over one log.",
        subcommands: [
            ServeCommand.self, PublishCommand.self, TailCommand.self, EndpointsCommand.self, ListenCommand.self,
        ]
    )
}
