import ArgumentParser
import Foundation
import ParleyClient
import ParleyCore

/// What every client command takes: the server to talk to.
struct ClientOptions: ParsableArguments {
    @Option(help: "The Parley server (default: PARLEY_URL, else http://127.0.0.1:8080). The key comes from PARLEY_API_KEY, else `parley login`.")
    var url: String?

    func settings() throws -> ClientSettings {
        let environment = ProcessInfo.processInfo.environment
        return try ClientSettings(url: url, environment: environment, credentials: CredentialFile(environment: environment))
    }
}

/// Which conversation a question goes to, and with what: `parley ask` and `parley chat` take the same options.
struct ConversationChoice: ParsableArguments {
    @Flag(name: [.customShort("c"), .customLong("continue")], help: "Continue the most recent conversation.")
    var continueLast = false
    @Option(name: .customLong("cid"), help: "Continue this conversation (its id).") var conversation: String?
    @Option(name: [.customShort("m"), .customLong("model")], help: "The model (default: the conversation's, else the server's).")
    var model: String?
    @Option(name: [.customShort("s"), .customLong("system")], help: "The conversation's system prompt.") var system: String?
    @Option(name: .customLong("kb"), help: "Answer from this knowledge base (its name or id), citing its passages; repeat for more.")
    var knowledgeBases: [String] = []
    @Option(name: .customLong("passages"), help: "Passages the knowledge bases give each question (1-50; the conversation keeps it).")
    var passages: Int?
    @Option(name: .customLong("min-similarity"),
            help: "The similarity (0-1) from which a passage only the vector search found counts (the conversation keeps it).")
    var minimumSimilarity: Double?
    @Flag(name: .customLong("no-rerank"), help: "Do not reorder the passages with the reranker (the conversation keeps it).")
    var noRerank = false

    /// How the knowledge bases are to be searched, as far as the options say.
    var retrieval: RetrievalSettings {
        RetrievalSettings(passages: passages, minimumSimilarity: minimumSimilarity, rerank: noRerank ? false : nil)
    }

    /// Whether an existing conversation is continued (-c or --cid).
    var continues: Bool { continueLast || conversation != nil }

    func validate() throws {
        if continueLast && conversation != nil { throw ValidationError("give -c or --cid, not both") }
    }
}

/// Runs a client command against the server: any failure is one line on standard error and exit status 1;
/// standard output gets only what the command is for.
func withRemote(_ options: ClientOptions, _ body: (RemoteParley) async throws -> Void) async throws {
    let remote: RemoteParley
    do {
        remote = RemoteParley(settings: try options.settings())
    } catch {
        fail("\(error)")
    }
    do {
        try await body(remote)
    } catch {
        await remote.shutdown()
        if let exit = error as? ExitCode { throw exit }
        fail("\(error)")
    }
    await remote.shutdown()
}

/// Writes `message` to standard error and exits with status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("parley: \(message)\n".utf8))
    Foundation.exit(1)
}

/// Writes to standard output at once (no buffering: a streamed answer shows as it comes).
func emit(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// JSON for scripts: keys sorted, slashes unescaped.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
}

/// Standard input, read whole, when it is not a terminal (text piped in); nil otherwise.
func pipedInput() -> String? {
    guard isatty(STDIN_FILENO) == 0 else { return nil }
    let data = FileHandle.standardInput.readDataToEndOfFile()
    return data.isEmpty ? nil : String(decoding: data, as: UTF8.self)
}
