import Foundation
import ParleyTestSupport
import Testing

/// `parley users create` and `parley keys create` through the real binary, then the key through a real
/// `parley serve` on the same database.
@Suite struct AccountCommandLineTests {
    @Test func theShellCreatesTheAdministratorAndAKeyThatServeAccepts() async throws {
        let workspace = try BinaryWorkspace("cli")
        defer { workspace.remove() }
        let (binary, directory) = (workspace.binary, workspace.directory)
        let database = ["--database", "sqlite://\(directory)/parley.db", "--password-hash-cost", "14"]
        let passwordFile = directory + "/password"
        try (TestUsers.password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let weakFile = directory + "/weak"
        try "password1234\n".write(toFile: weakFile, atomically: true, encoding: .utf8)

        let weak = try await Shell.run([binary, "users", "create", "--admin", TestUsers.adminEmail, "--password-file", weakFile] + database)
        #expect(weak.status != 0 && weak.output.contains("error: this password is one of the most common ones"), "\(weak.output)")

        let created = try await Shell.run([binary, "users", "create", "--admin", TestUsers.adminEmail, "--password-file", passwordFile,
                                           "--name", "Ada"] + database)
        #expect(created.status == 0 && created.output.contains("Created administrator admin@example.com"), "\(created.output)")
        let again = try await Shell.run([binary, "users", "create", TestUsers.adminEmail, "--password-file", passwordFile] + database)
        #expect(again.status != 0 && again.output.contains("already exists"), "\(again.output)")
        // Piped in, as a script would.
        let piped = try await Shell.run(["sh", "-c", "printf '%s\\n' '\(TestUsers.password)' | '\(binary)' users create bob@example.com "
                                            + database.joined(separator: " ")])
        #expect(piped.status == 0 && piped.output.contains("Created user bob@example.com"), "\(piped.output)")

        let badScope = try await Shell.run([binary, "keys", "create", "--user", TestUsers.adminEmail, "--scopes", "root"] + database)
        #expect(badScope.status != 0, "\(badScope.output)")
        let keyRun = try await Shell.run([binary, "keys", "create", "--user", TestUsers.adminEmail, "--name", "script"] + database)
        let key = keyRun.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(keyRun.status == 0 && key.hasPrefix("pk-") && key.count == 46, "\(keyRun.output)")

        let server = try await ChildProcess.start(binary, ["serve", "--port", "0"] + database, log: directory + "/serve.log",
                                                  environment: ["PATH": "/usr/bin:/bin"])
        defer { server.stop() }
        let client = TestParley.Client(baseURL: "http://127.0.0.1:\(server.port)")
        client.credentials.use(key: key)
        let state = try await client.request(.GET, "/api/v1/auth/session", headers: ["Authorization": ""])
        #expect(state.json["setup_required"] as? Bool == false, "the shell made the administrator: \(state.body)")
        #expect(try await client.request(.GET, "/api/v1/conversations").status == 200)
        let me = try await client.request(.GET, "/api/v1/account")
        #expect(me.json["role"] as? String == "admin" && me.json["name"] as? String == "Ada")
        _ = try await client.signIn(email: "bob@example.com")
        try await client.shutdown()
    }
}
