import ArgumentParser
import Foundation
import Logging
import ParleyServer

/// `parley migrate`: brings the database schema up to date and exits. `parley serve` does the same at start-up;
/// this is for deployments that migrate as a separate step. Replicas starting together are safe either way
/// (PostgreSQL migrations run under an advisory lock).
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and exit.",
        discussion: "Takes the settings of parley serve (see parley serve --help) from the same places; the database is --database or PARLEY_DATABASE_URL.")

    @Argument(parsing: .allUnrecognized, help: .init("Settings as --name value, as for parley serve.", valueName: "settings"))
    var settingArguments: [String] = []

    func validate() throws {
        do {
            _ = try SettingArguments.parse(settingArguments)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let settings: ParleyConfig
        do {
            settings = try ConfigLoader(flags: try SettingArguments.parse(settingArguments)).load()
        } catch let error as SettingArguments.Problem {
            throw ValidationError(error.description)
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        try await ParleyApplication.migrate(config: settings, logger: Logger(label: "parley"))
        print("The database is up to date.")
    }
}
