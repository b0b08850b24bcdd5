import Foundation
import ParleyMockLLM
import ParleyTestSupport
import Testing

/// The terminal client, run as a user would (the real `parley` binary, in a shell, text piped in) against a real
/// `parley serve`: `parley ask` in pipes, its exit status and standard error on every kind of failure with nothing
/// but the answer on standard output; `parley models`, `parley conversations`, and `parley login` / `logout`.
@Suite struct TerminalClientTests {
    /// A server with the mock model, an administrator's key, and a home folder for the client.
    struct Setup {
        let workspace: BinaryWorkspace
        let server: ChildProcess
        let url: String
        let key: String
        let client: TestParley.Client
        /// The mock model's port.
        let upstreamPort: Int

        /// The client's environment: only what a user's shell would have, and no stored key.
        var environment: [String: String] {
            ["PATH": "/usr/bin:/bin", "HOME": workspace.directory, "PARLEY_URL": url, "PARLEY_API_KEY": key]
        }

        /// Starts `parley ARGUMENTS` in the background: the process, and what it printed so far on standard output
        /// and standard error.
        func startAsk(_ arguments: [String], environment overrides: [String: String] = [:]) throws
            -> (process: Process, printed: @Sendable () -> String, errors: @Sendable () -> String)
        {
            let name = UUID().uuidString
            let output = workspace.directory + "/\(name).out", errors = workspace.directory + "/\(name).err"
            for file in [output, errors] { _ = FileManager.default.createFile(atPath: file, contents: nil) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: workspace.binary)
            process.arguments = arguments
            process.environment = environment.merging(overrides) { $1 }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
            try process.run()
            return (process, { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" },
                    { (try? String(contentsOfFile: errors, encoding: .utf8)) ?? "" })
        }

        /// The newest conversation's last message, as stored.
        func lastStoredMessage() async throws -> [String: Any] {
            let newest = try await client.request(.GET, "/api/v1/conversations?limit=1")
            let id = try #require((newest.json["data"] as? [[String: Any]])?.first?["id"] as? String)
            let messages = try await client.request(.GET, "/api/v1/conversations/\(id)/messages")
            return try #require((messages.json["data"] as? [[String: Any]])?.last)
        }

        /// Runs `parley ARGUMENTS` with `input` piped in: exit status, standard output and standard error apart.
        func parley(_ arguments: [String], input: String? = nil, environment overrides: [String: String] = [:])
            async throws -> (status: Int32, out: String, err: String)
        {
            let errors = workspace.directory + "/stderr-\(UUID().uuidString)"
            let variables = environment.merging(overrides) { $1 }.filter { !$0.value.isEmpty }.map { "\($0.key)=\($0.value)" }
            let command = ["env", "-i"] + variables + [workspace.binary] + arguments
            let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            let piped = input.map { "printf '%s' '" + $0.replacingOccurrences(of: "'", with: "'\\''") + "' | " } ?? ""
            let outcome = try await Shell.run(["sh", "-c", piped + quoted + " 2>'\(errors)'"])
            let err = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            return (outcome.status, outcome.output, err)
        }
    }

    static func withServer(_ extraArguments: [String] = [], _ body: (Setup) async throws -> Void) async throws {
        let workspace = try BinaryWorkspace("terminal")
        defer { workspace.remove() }
        var options = MockLLMServer.Options()
        options.port = 0
        options.defaults = MockScript(tokens: 5, tokenDelayMs: 1)
        let mock = try await MockLLMServer(options: options).start(logger: TestParley.quietLogger)
        defer { Task { try? await mock.stop() } }
        let server = try await startServer(workspace, upstreamPort: mock.port, port: 0, extraArguments)
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)"
        let client = TestParley.Client(baseURL: url)
        defer { Task { try? await client.shutdown() } }
        try await client.actAsAdmin()
        let key = try #require(client.credentials.current["Authorization"]?.replacingOccurrences(of: "Bearer ", with: ""))
        try await body(Setup(workspace: workspace, server: server, url: url, key: key, client: client, upstreamPort: mock.port))
    }

    /// `parley serve` on the workspace's database, with the mock model at `upstreamPort`.
    static func startServer(_ workspace: BinaryWorkspace, upstreamPort: Int, port: Int, _ extraArguments: [String] = [],
                            log: String = "serve.log") async throws -> ChildProcess {
        try await ChildProcess.start(
            workspace.binary, ["serve", "--port", String(port), "--database", "sqlite://\(workspace.directory)/p.db",
                               "--openai-base-url", "http://127.0.0.1:\(upstreamPort)/v1", "--password-hash-cost", "14",
                               // Titles stay the first lines these tests look for.
                               "--log-level", "warning", "--title-model", "off"] + extraArguments,
            log: workspace.directory + "/" + log, environment: ["PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-up"])
    }

    @Test func askInPipesPrintsOnlyTheAnswer() async throws {
        try await Self.withServer { setup in
            // The words, a blank line, then the piped text; the mock echoes them back as the answer.
            let asked = try await setup.parley(["ask", "mock:echo=1 mock:tokens=6 review this"], input: "line one\nline two")
            #expect(asked.status == 0 && asked.out == "review this\n\nline one\nline two\n" && asked.err.isEmpty,
                    "\(asked)")

            // -c continues the newest conversation; the server keeps both turns.
            let continued = try await setup.parley(["ask", "-c", "mock:echo=1 mock:tokens=2 second question"])
            #expect(continued.status == 0 && continued.out == "second question\n", "\(continued)")
            let listed = try await setup.parley(["conversations", "list", "--json"])
            let conversations = try #require(try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]])
            try #require(conversations.count == 1, "\(listed)")
            let id = try #require(conversations[0]["id"] as? String)
            #expect(conversations[0]["message_count"] as? Int == 4)
            let shown = try await setup.parley(["conversations", "show", id, "--json"])
            let transcript = try #require(try JSONSerialization.jsonObject(with: Data(shown.out.utf8)) as? [String: Any])
            let messages = try #require(transcript["messages"] as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["user", "assistant", "user", "assistant"])
            #expect(messages[0]["content"] as? String == "mock:echo=1 mock:tokens=6 review this\n\nline one\nline two")

            // The same conversation through the web UI's API: both messages of each turn, as the browser lists them.
            let page = try await setup.client.request(.GET, "/api/v1/conversations/\(id)/messages")
            #expect((page.json["data"] as? [[String: Any]])?.count == 4)

            // --cid, a system prompt, --no-stream, --json and -x.
            let json = try await setup.parley(["ask", "--cid", id, "-s", "Be brief.", "--json", "mock:echo=1 mock:tokens=1 hi"])
            let message = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any], "\(json)")
            #expect(message["role"] as? String == "assistant" && message["status"] as? String == "complete"
                    && message["content"] as? String == "hi")
            #expect(try await setup.client.request(.GET, "/api/v1/conversations/\(id)").json["system_prompt"] as? String == "Be brief.")
            let whole = try await setup.parley(["ask", "--no-stream", "mock:echo=1 mock:tokens=2 all once"])
            #expect(whole.status == 0 && whole.out == "all once\n", "\(whole)")
            let code = try await setup.parley(["ask", "-x"], input: "mock:echo=1 mock:tokens=6 look:\n```sh\necho 1\n```\nend")
            #expect(code.status == 0 && code.out == "echo 1\n", "\(code)")
            let none = try await setup.parley(["ask", "-x", "mock:echo=1 mock:tokens=2 no code"])
            #expect(none.status == 1 && none.out.isEmpty && none.err.contains("no fenced code block"), "\(none)")
        }
    }

    /// Waits up to `limit` for `condition`.
    static func eventually(_ limit: Duration = .seconds(20), _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }

    @Test func aStreamCutMidAnswerIsPickedUpWhereItStoppedAndNothingIsPrintedTwice() async throws {
        try await Self.withServer { setup in
            let directory = setup.workspace.directory
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../python/cuttable_relay.py").standardized.path
            let relayLog = directory + "/relay.log"
            _ = FileManager.default.createFile(atPath: relayLog, contents: nil)
            let relay = Process()
            relay.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            relay.arguments = ["python3", script, String(setup.server.port)]
            relay.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: relayLog))
            try relay.run()
            defer { relay.terminate(); relay.waitUntilExit() }
            let log = { (try? String(contentsOfFile: relayLog, encoding: .utf8)) ?? "" }
            try #require(try await Self.eventually { log().contains("listening ") })
            let relayPort = try #require(log().split(separator: " ").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })

            let (ask, printed, errors) = try setup.startAsk(["ask", "mock:tokens=80 mock:delay_ms=15 tell me a long story"],
                                                            environment: ["PARLEY_URL": "http://127.0.0.1:\(relayPort)"])
            defer { if ask.isRunning { ask.terminate() } }
            try #require(try await Self.eventually { printed().count > 20 }, "the answer starts streaming")
            kill(relay.processIdentifier, SIGUSR1)
            try #require(try await Self.eventually { log().contains("cut ") })
            let atCut = printed()
            try #require(try await Self.eventually(.seconds(30)) { !ask.isRunning })
            #expect(ask.terminationStatus == 0 && errors().isEmpty, "\(errors())")

            let stored = try #require(try await setup.lastStoredMessage()["content"] as? String)
            #expect(printed() == stored + "\n", "every word once, in order")
            #expect(atCut.count < stored.count, "the cut came mid-answer (\(atCut.count) of \(stored.count) characters)")
            #expect(log().contains("cut ") && !log().contains("cut 0") && log().components(separatedBy: "accepted").count - 1 >= 2,
                    "the answer's connection was cut and another one opened: \(log())")
        }
    }

    /// A conversation started with `parley ask` is in the web UI's list with both messages (headless Chromium,
    /// `Tests/browser/terminal_conversation_check.py`); the browser continues it, and `parley ask -c` after that.
    @Test func aConversationStartedWithAskGoesOnInTheBrowserAndBack() async throws {
        if let missing = await WebUITests.missingTools() {
            if WebUITests.required { Issue.record("\(missing)") }
            return
        }
        try await Self.withServer { setup in
            let asked = try await setup.parley(["ask", "mock:echo=1 mock:tokens=3 where okapis live"])
            try #require(asked.status == 0 && asked.out == "where okapis live\n", "\(asked)")
            let listed = try await setup.parley(["conversations", "list", "--json"])
            let conversations = try #require(try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]])
            let id = try #require(conversations.first?["id"] as? String, "\(listed)")

            let script = WebUITests.root.appendingPathComponent("Tests/browser/terminal_conversation_check.py").path
            let browser = try await Shell.run(["nice", "-n", "19", "python3", script, setup.url, TestUsers.adminEmail, TestUsers.password,
                                               id, "mock:echo=1 mock:tokens=3 where okapis live", "where okapis live",
                                               "mock:echo=1 mock:tokens=4 and what they eat"])
            print("browser checks:\n" + browser.output)
            #expect(browser.status == 0 && browser.output.contains("all passed"), "\(browser.output)")

            let back = try await setup.parley(["ask", "-c", "mock:echo=1 mock:tokens=2 thank you"])
            #expect(back.status == 0 && back.out == "thank you\n", "\(back)")
            let shown = try await setup.parley(["conversations", "show", id, "--json"])
            let transcript = try #require(try JSONSerialization.jsonObject(with: Data(shown.out.utf8)) as? [String: Any])
            let contents = (transcript["messages"] as? [[String: Any]] ?? []).map { $0["content"] as? String ?? "" }
            #expect(contents == ["mock:echo=1 mock:tokens=3 where okapis live", "where okapis live",
                                 "mock:echo=1 mock:tokens=4 and what they eat", "and what they eat",
                                 "mock:echo=1 mock:tokens=2 thank you", "thank you"], "\(contents)")
        }
    }

    /// The server restarted (SIGTERM, then started again) mid-answer. Within the shutdown grace the answer
    /// finishes and the client prints all of it (status 0) while the server drains; past the grace the server
    /// keeps what came, marked interrupted, and the client prints exactly that, once, and says so (status 1).
    /// (A generation cannot move to another process: the model's stream is not resumable. A stream broken while
    /// the answer goes on is picked up again: see the cut test above.)
    @Test func aServerRestartedMidAnswerLosesNothingAndRepeatsNothing() async throws {
        try await Self.withServer(["--shutdown-grace", "1"]) { setup in
            // Past the grace: a 6 s answer, the server stopped after its first words with 1 s of grace.
            let (ask, printed, errors) = try setup.startAsk(["ask", "mock:tokens=400 mock:delay_ms=15 a very long story"])
            defer { if ask.isRunning { ask.terminate() } }
            try #require(try await Self.eventually { printed().count > 20 }, "the answer starts streaming")
            setup.server.send(SIGTERM)
            #expect(await setup.server.waitForExit(within: .seconds(15)), "the server stops")
            let restarted = try await Self.startServer(setup.workspace, upstreamPort: setup.upstreamPort, port: setup.server.port,
                                                       ["--shutdown-grace", "20"], log: "serve-again.log")
            defer { restarted.stop() }
            try #require(try await Self.eventually(.seconds(30)) { !ask.isRunning })
            let stored = try await setup.lastStoredMessage()
            let content = try #require(stored["content"] as? String)
            #expect(stored["status"] as? String == "interrupted" && content.count > 20 && content.count < 2_000, "\(stored)")
            #expect(printed() == content + "\n", "what was printed is what the server kept, each word once")
            #expect(ask.terminationStatus == 1 && errors() == "parley: the answer was interrupted\n", "\(ask.terminationStatus) \(errors())")

            // Within the grace: a 2 s answer goes on to its end while the server drains, then the server exits.
            let (second, printedAgain, errorsAgain) = try setup.startAsk(["ask", "mock:tokens=150 mock:delay_ms=15 a shorter story"])
            defer { if second.isRunning { second.terminate() } }
            try #require(try await Self.eventually { printedAgain().count > 20 }, "the answer starts streaming")
            restarted.send(SIGTERM)
            try #require(try await Self.eventually(.seconds(30)) { !second.isRunning })
            #expect(await restarted.waitForExit(within: .seconds(15)), "the server stops once the answer is done")
            // Read back through the API of the server started once more on the same database.
            let third = try await Self.startServer(setup.workspace, upstreamPort: setup.upstreamPort, port: setup.server.port,
                                                   log: "serve-third.log")
            defer { third.stop() }
            let again = try await setup.lastStoredMessage()
            let answer = try #require(again["content"] as? String)
            #expect(second.terminationStatus == 0 && errorsAgain().isEmpty && again["status"] as? String == "complete",
                    "\(second.terminationStatus) \(errorsAgain()) \(again)")
            #expect(printedAgain() == answer + "\n" && answer.split(separator: " ").count >= 150, "the whole answer, once")
        }
    }

    /// The server killed mid-answer and started again on the same port: the client retries until it answers,
    /// reattaches after the last event it saw, and ends with the answer the new process marked interrupted —
    /// every word printed once and in order, and what the server kept printed in full.
    @Test func aServerKilledMidAnswerIsReattachedAndNothingIsRepeated() async throws {
        let fastRecovery = ["--generation-lease", "1", "--flush-interval-ms", "50"]
        try await Self.withServer(fastRecovery) { setup in
            let words = (1...400).map { "w\($0)" }
            let (ask, printed, errors) = try setup.startAsk(["ask", "mock:echo=1 mock:tokens=400 mock:delay_ms=15 " + words.joined(separator: " ")])
            defer { if ask.isRunning { ask.terminate() } }
            try #require(try await Self.eventually { printed().split(separator: " ").count > 20 }, "the answer starts streaming")
            setup.server.stop(signal: SIGKILL)
            #expect(await setup.server.waitForExit(within: .seconds(10)))
            try await Task.sleep(for: .milliseconds(500))  // The client meets a closed port first.
            let restarted = try await Self.startServer(setup.workspace, upstreamPort: setup.upstreamPort, port: setup.server.port,
                                                       fastRecovery, log: "serve-again.log")
            defer { restarted.stop() }
            try #require(try await Self.eventually(.seconds(30)) { !ask.isRunning })
            let stored = try await setup.lastStoredMessage()
            let kept = try #require(stored["content"] as? String)
            let shown = printed().split(separator: " ").map(String.init)
            #expect(stored["status"] as? String == "interrupted" && !kept.isEmpty, "\(stored)")
            #expect(shown.last?.hasSuffix("\n") == true)
            #expect(shown.map { $0.trimmingCharacters(in: .newlines) } == Array(words.prefix(shown.count)),
                    "every word once and in order: \(printed())")
            #expect(printed().hasPrefix(kept), "what the server kept was printed in full")
            #expect(ask.terminationStatus == 1 && errors() == "parley: the answer was interrupted\n",
                    "\(ask.terminationStatus) \(errors())")
        }
    }

    @Test func chatReadsMessagesAndCommandsFromAPipe() async throws {
        try await Self.withServer { setup in
            // Each line is a message or a command; the answer is printed plain, as in a pipe.
            let chat = try await setup.parley(["chat"], input: "/model mock-2\nmock:echo=1 mock:tokens=2 hi there\n")
            #expect(chat.status == 0 && chat.out == "Model: mock-2\nhi there\n" && chat.err.isEmpty, "\(chat)")
            let stored = try await setup.lastStoredMessage()
            #expect(stored["content"] as? String == "hi there" && stored["model"] as? String == "mock-2", "\(stored)")
            // A command the chat does not know is an error line, and the lines after it still run.
            let unknown = try await setup.parley(["chat"], input: "/nonsense\nmock:echo=1 mock:tokens=1 after\n")
            #expect(unknown.out.hasSuffix("after\n") && unknown.err.contains("/nonsense"), "\(unknown)")
            #expect(unknown.status == 1, "a script sees that a line failed")
            let failing = try await setup.parley(["chat"], input: "mock:fault=500 mock:fault_times=100 first\nmock:echo=1 mock:tokens=1 second\n")
            #expect(failing.status == 1 && failing.err.contains("the answer failed") && failing.out.hasSuffix("second\n"), "\(failing)")
        }
    }

    @Test func ctrlCStopsTheAnswerOnTheServerWhichKeepsWhatCame() async throws {
        try await Self.withServer { setup in
            let (ask, printed, errors) = try setup.startAsk(["ask", "mock:tokens=400 mock:delay_ms=15 a very long story"])
            defer { if ask.isRunning { ask.terminate() } }
            try #require(try await Self.eventually { printed().count > 20 }, "the answer starts streaming")
            kill(ask.processIdentifier, SIGINT)
            try #require(try await Self.eventually(.seconds(30)) { !ask.isRunning })
            #expect(ask.terminationStatus == 1 && errors().contains("the answer was stopped"), "\(ask.terminationStatus) \(ask.terminationReason.rawValue) \(errors())")
            let stored = try await setup.lastStoredMessage()
            #expect(stored["status"] as? String == "cancelled")
            let content = try #require(stored["content"] as? String)
            #expect(!content.isEmpty && printed() == content + "\n", "what was printed is what the server kept")
            #expect(content.count < 1_500, "stopped well before the end")
        }
    }

    @Test func everyFailureIsOneLineOnStandardErrorAndExitStatusOne() async throws {
        try await Self.withServer { setup in
            let cases: [(arguments: [String], environment: [String: String], says: String)] = [
                (["ask", "hello"], ["PARLEY_URL": "http://127.0.0.1:9"], "cannot reach Parley at http://127.0.0.1:9: connection refused"),
                (["ask", "hello"], ["PARLEY_API_KEY": "pk-not-a-key"], "refused the key (401)"),
                (["ask", "hello"], ["PARLEY_API_KEY": ""], "refused the key (401)"),
                (["ask", "mock:fault=500 mock:fault_times=100 hello"], [:], "the answer failed"),
                (["ask", "--no-stream", "mock:fault=500 mock:fault_times=100 hello"], [:], "the answer failed"),
                (["ask", "--cid", UUID().uuidString, "hello"], [:], "not found (404)"),
                (["ask", "--cid", "nope", "hello"], [:], "'nope' is not an id"),
                (["ask"], [:], "nothing to ask"),
                (["ask", "-m", "no-such-model", "hello"], [:], "no-such-model"),
                (["conversations", "show", UUID().uuidString], [:], "not found (404)"),
                (["models"], ["PARLEY_URL": "ftp://example"], "is not a server address"),
            ]
            for (arguments, environment, says) in cases {
                let outcome = try await setup.parley(arguments, environment: environment)
                #expect(outcome.status == 1 && outcome.out.isEmpty && outcome.err.contains(says)
                        && outcome.err.split(separator: "\n").count == 1, "\(arguments) \(environment): \(outcome)")
            }
            let usage = try await setup.parley(["ask", "-c", "--cid", UUID().uuidString, "hi"])
            #expect(usage.status == 64 && usage.out.isEmpty && usage.err.contains("give -c or --cid, not both"))
        }
    }

    @Test func modelsConversationsAndAStoredKey() async throws {
        try await Self.withServer { setup in
            let models = try await setup.parley(["models"])
            #expect(models.status == 0 && models.out.contains("mock-1") && models.out.contains("(default)"), "\(models)")
            let listing = try await setup.parley(["models", "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(listing.out.utf8)) as? [String: Any])
            #expect((object["data"] as? [[String: Any]])?.contains { $0["id"] as? String == "mock-1" } == true)

            #expect(try await setup.parley(["ask", "-s", "Answer in French.", "mock:tokens=3 bonjour"]).status == 0)
            let list = try await setup.parley(["conversations", "list"])
            let id = try #require(list.out.split(separator: " ").first.map(String.init), "\(list)")
            let file = setup.workspace.directory + "/chat.md"
            #expect(try await setup.parley(["conversations", "export", id, "-o", file]).status == 0)
            let markdown = try String(contentsOfFile: file, encoding: .utf8)
            #expect(markdown.contains("> System: Answer in French.") && markdown.contains("**User**")
                    && markdown.contains("**Assistant** (mock-1)"), "\(markdown)")
            let shown = try await setup.parley(["conversations", "show", id])
            #expect(shown.out.contains("── user\nmock:tokens=3 bonjour\n") && shown.out.contains("── assistant · mock-1\n"), "\(shown)")
            #expect(try await setup.parley(["conversations", "delete", id]).status == 0)
            let after = try await setup.parley(["conversations", "list", "--json"])
            #expect((try JSONSerialization.jsonObject(with: Data(after.out.utf8)) as? [Any])?.isEmpty == true, "\(after)")

            // login checks the key, stores it readable only by the user, and the commands use it.
            let stored = setup.workspace.directory + "/.config/parley/credentials.json"
            let refused = try await setup.parley(["login"], input: "pk-wrong\n", environment: ["PARLEY_API_KEY": ""])
            #expect(refused.status == 1 && refused.err.contains("the key was not stored") && !FileManager.default.fileExists(atPath: stored))
            let login = try await setup.parley(["login"], input: setup.key + "\n", environment: ["PARLEY_API_KEY": ""])
            #expect(login.status == 0 && login.out.contains(stored) && !login.out.contains(setup.key) && login.err.isEmpty, "\(login)")
            let attributes = try FileManager.default.attributesOfItem(atPath: stored)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let folder = try FileManager.default.attributesOfItem(atPath: (stored as NSString).deletingLastPathComponent)
            #expect((folder[.posixPermissions] as? Int) == 0o700)
            #expect(try await setup.parley(["models"], environment: ["PARLEY_API_KEY": ""]).status == 0, "the stored key is used")
            let logout = try await setup.parley(["logout"], environment: ["PARLEY_API_KEY": ""])
            #expect(logout.status == 0 && logout.out.contains("Forgot the key"))
            #expect(try await setup.parley(["models"], environment: ["PARLEY_API_KEY": ""]).status == 1)
        }
    }
}
