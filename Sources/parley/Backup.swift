import ArgumentParser
import Foundation
import ParleyServer
import ParleyStore

/// `parley backup`: a consistent copy of the SQLite database while the server runs.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the SQLite database to a file, consistent at one instant, while Parley serves.",
        discussion: "The database is --database or PARLEY_DATABASE_URL (the settings of parley serve). For PostgreSQL, use pg_dump (see the README).")

    @Option(help: "The file to write the copy to.") var to: String
    @Flag(help: "Replace the file if it exists.") var force = false
    @OptionGroup var settingFlags: SettingFlags

    func run() async throws {
        let settings = try settingFlags.load(with: try settingFlags.loader())
        let bytes = try await runReporting {
            try SQLiteBackup.backup(from: try sqlitePath(settings), to: to, overwrite: force)
        }
        print("Backed up to \(to) (\(bytes) bytes).")
    }
}

/// `parley restore`: puts a backup in place of the SQLite database.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Write a backup over the SQLite database (stop every parley serve using it first).",
        discussion: "The database is --database or PARLEY_DATABASE_URL. The next parley serve migrates the restored file if it is older.")

    @Option(help: "The backup to restore.") var from: String
    @Flag(help: "Replace the database if it exists.") var force = false
    @OptionGroup var settingFlags: SettingFlags

    func run() async throws {
        let settings = try settingFlags.load(with: try settingFlags.loader())
        let target = try await runReporting { try sqlitePath(settings) }
        let bytes = try await runReporting { try SQLiteBackup.restore(from: from, to: target, overwrite: force) }
        print("Restored \(from) to \(target) (\(bytes) bytes).")
    }
}

/// The SQLite file of the configured database; PostgreSQL has its own tools.
func sqlitePath(_ settings: ParleyConfig) throws -> String {
    switch try settings.database() {
    case .sqlite(let path): return path
    case .postgres:
        throw SQLiteBackup.Failure("the database is PostgreSQL: back it up with pg_dump and restore with pg_restore (see the README)")
    }
}
