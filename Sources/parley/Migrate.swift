import ArgumentParser
import Foundation
import Logging
import ParleyServer

/// `parley migrate`: brings the database schema up to date and exits. `parley serve` does the same at start-up;
/// this is for deployments that migrate as a separate step. Replicas starting together are safe either way
/// (PostgreSQL migrations run under an advisory lock).
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations and exit.",
        discussion: "Takes the settings of parley serve (see parley serve --help) from the same places; the database is --database or PARLEY_DATABASE_URL.")

    @OptionGroup var settingFlags: SettingFlags

    func run() async throws {
        let settings = try settingFlags.load(with: try settingFlags.loader())
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        try await ParleyApplication.migrate(config: settings, logger: Logger(label: "parley"))
        print("The database is up to date.")
    }
}
