import Foundation
import GRDB

/// Copies of a SQLite database through SQLite's online backup: `backup` reads a consistent snapshot while a
/// server goes on reading and writing (WAL mode), `restore` writes a copy back into place. Both check what they
/// read is a sound Parley database, and neither overwrites an existing file unless told to.
public enum SQLiteBackup {
    /// Why a backup or restore was refused.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Copies the database at `source` into a new file at `destination`; the copy's size in bytes.
    @discardableResult
    public static func backup(from source: String, to destination: String, overwrite: Bool = false) throws -> Int {
        try transfer(from: source, called: "database", to: destination, overwrite: overwrite)
    }

    /// Writes the backup at `source` over the database at `destination` (stop the servers using it first).
    @discardableResult
    public static func restore(from source: String, to destination: String, overwrite: Bool = false) throws -> Int {
        try transfer(from: source, called: "backup", to: destination, overwrite: overwrite)
    }

    private static func transfer(from source: String, called what: String, to destination: String, overwrite: Bool) throws -> Int {
        try checkSource(source, what: what)
        try prepareDestination(destination, overwrite: overwrite)
        try copy(from: source, to: destination)
        return size(of: destination)
    }

    private static func copy(from source: String, to destination: String) throws {
        do {
            var reading = Configuration()
            reading.readonly = true
            let from = try DatabaseQueue(path: source, configuration: reading)
            let to = try DatabaseQueue(path: destination)
            try from.backup(to: to)
            try to.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
            try to.read { db in
                guard try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok" else {
                    throw Failure("the copy at \(destination) failed SQLite's integrity check")
                }
            }
        } catch let error as DatabaseError {
            throw Failure("SQLite: \(error.message ?? "\(error)")")
        }
    }

    /// The file exists, is a SQLite database, and carries Parley's schema.
    private static func checkSource(_ path: String, what: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw Failure("no \(what) at \(path)") }
        do {
            var reading = Configuration()
            reading.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: reading)
            let parley = try queue.read { db in
                try db.tableExists("grdb_migrations") && db.tableExists("conversations") && db.tableExists("messages")
            }
            guard parley else { throw Failure("\(path) is a SQLite database, but not Parley's") }
        } catch let error as DatabaseError {
            throw Failure("\(path) is not a SQLite database (\(error.message ?? "\(error.resultCode)"))")
        }
    }

    private static func prepareDestination(_ path: String, overwrite: Bool) throws {
        let manager = FileManager.default
        let folder = (path as NSString).deletingLastPathComponent
        guard folder.isEmpty || manager.fileExists(atPath: folder) else { throw Failure("no folder \(folder) for \(path)") }
        if manager.fileExists(atPath: path) {
            guard overwrite else { throw Failure("\(path) exists; add --force to replace it") }
            for suffix in ["", "-wal", "-shm"] where manager.fileExists(atPath: path + suffix) {
                try manager.removeItem(atPath: path + suffix)
            }
        }
    }

    private static func size(of path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue ?? 0
    }
}
