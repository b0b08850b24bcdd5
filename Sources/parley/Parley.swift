import ArgumentParser

/// The `parley` command.
@main
struct Parley: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "A self-hosted LLM chat server.",
        subcommands: [Serve.self, Migrate.self, Backup.self, Restore.self, Users.self, Keys.self, Health.self, MockLLM.self,
                      Ask.self, Chat.self, Conversations.self, Models.self, Login.self, Logout.self],
        defaultSubcommand: Serve.self)
}
