import ArgumentParser

/// `flotilla`: a multi-Raft replicated time-series store.
@main
struct Flotilla: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flotilla",
        abstract: "A multi-Raft replicated time-series store.",
        subcommands: [
            LocalCommand.self, ServerCommand.self, WriteCommand.self, SQLCommand.self, StatusCommand.self,
            BenchCommand.self,
        ],
        defaultSubcommand: nil)
}
