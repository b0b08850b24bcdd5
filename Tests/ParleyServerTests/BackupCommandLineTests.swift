import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// `parley backup` and `parley restore` through the real binary: a copy taken while `parley serve` runs and
/// answers, restored into a new file that a new server then serves, with the account and the chats intact.
@Suite struct BackupCommandLineTests {
    @Test func aBackupTakenWhileServingRestoresEverything() async throws {
        let workspace = try BinaryWorkspace("backup")
        defer { workspace.remove() }
        let (binary, directory) = (workspace.binary, workspace.directory)
        let live = ["--database", "sqlite://\(directory)/live.db", "--password-hash-cost", "14"]
        let restored = ["--database", "sqlite://\(directory)/restored.db", "--password-hash-cost", "14"]

        let server = try await ChildProcess.start(binary, ["serve", "--port", "0"] + live, log: directory + "/live.log",
                                                  environment: ["PATH": "/usr/bin:/bin"])
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(server.port)")
        try await client.actAsAdmin()
        let conversation = try await client.createConversation(#"{"title":"kept in the backup"}"#)
        _ = try await client.chat(conversation, "hello")
        // Taken while the server writes: another answer is being generated meanwhile.
        let writing = Task { try await client.chat(conversation, "write while the backup runs") }
        let backup = try await Shell.run([binary, "backup", "--to", directory + "/copy.db"] + live)
        #expect(backup.status == 0 && backup.output.contains("Backed up to"), "\(backup.output)")
        _ = try await writing.value
        let again = try await Shell.run([binary, "backup", "--to", directory + "/copy.db"] + live)
        #expect(again.status != 0 && again.output.contains("exists; add --force"), "\(again.output)")
        try await client.shutdown()
        server.stop()

        let restore = try await Shell.run([binary, "restore", "--from", directory + "/copy.db"] + restored)
        #expect(restore.status == 0 && restore.output.contains("Restored"), "\(restore.output)")
        let second = try await ChildProcess.start(binary, ["serve", "--port", "0"] + restored, log: directory + "/restored.log",
                                                  environment: ["PATH": "/usr/bin:/bin"])
        defer { second.stop() }
        let reader = TestParley.Client(baseURL: "http://127.0.0.1:\(second.port)")
        let state = try await reader.request(.GET, "/api/v1/auth/session", headers: ["Authorization": ""])
        #expect(state.json["setup_required"] as? Bool == false, "the account came back: \(state.body)")
        let admin = try await reader.signIn(email: TestUsers.adminEmail)
        let page = try await reader.request(.GET, "/api/v1/conversations/\(conversation)/messages", headers: admin.cookie)
        #expect(page.status == 200, "\(page.body)")
        let contents = (page.json["data"] as? [[String: any Sendable]])?.compactMap { $0["content"] as? String } ?? []
        #expect(contents.first == "hello" && contents.count >= 2, "\(contents)")
        try await reader.shutdown()
    }

    @Test func badBackupsAndRestoresAreClearErrors() async throws {
        let workspace = try BinaryWorkspace("backup")
        defer { workspace.remove() }
        let (binary, directory) = (workspace.binary, workspace.directory)
        try "not a database".write(toFile: directory + "/junk.db", atomically: true, encoding: .utf8)
        let database = ["--database", "sqlite://\(directory)/parley.db"]

        let missing = try await Shell.run([binary, "backup", "--to", directory + "/copy.db"] + database)
        #expect(missing.status != 0 && missing.output.contains("no database at"), "\(missing.output)")
        let junk = try await Shell.run([binary, "restore", "--from", directory + "/junk.db"] + database)
        #expect(junk.status != 0 && junk.output.contains("not a SQLite database"), "\(junk.output)")
        let nowhere = try await Shell.run([binary, "restore", "--from", directory + "/absent.db"] + database)
        #expect(nowhere.status != 0 && nowhere.output.contains("no backup at"), "\(nowhere.output)")
        let postgres = try await Shell.run([binary, "backup", "--to", directory + "/x.db", "--database", "postgres://u:p@127.0.0.1:1/db"])
        #expect(postgres.status != 0 && postgres.output.contains("pg_dump") && !postgres.output.contains("u:p"), "\(postgres.output)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/parley.db"), "a refused restore writes nothing")
    }
}
