import Foundation
import ParleyCore

/// Reads another app's export as it arrives and stores each conversation in it as soon as it is complete: memory
/// holds one conversation at a time whatever the file's size. Each conversation is stored in its own transaction;
/// the report says what was imported and what was skipped, and why.
public struct ConversationImporter: Sendable {
    /// What an import did.
    public struct Report: Sendable, Equatable {
        /// One conversation left out.
        public struct Skipped: Sendable, Equatable {
            /// Its place in the file, from 0.
            public var position: Int
            public var title: String?
            public var reason: String
        }

        /// The formats found, in the order first seen.
        public var formats: [ExportFormat] = []
        public var conversations = 0
        public var messages = 0
        /// Messages left out of imported conversations: no text, or a tool's or the system's.
        public var messagesLeftOut = 0
        public var skippedCount = 0
        /// The first ``ConversationImporter/maxSkippedListed`` skipped conversations.
        public var skipped: [Skipped] = []
        /// Set when the file stopped being readable part-way (what came before it is imported).
        public var failure: String?
    }

    /// How many skipped conversations the report lists by name.
    public static let maxSkippedListed = 100

    public let store: any ConversationStore
    public let owner: UserID
    /// Largest single conversation read, in bytes of JSON.
    public let maxConversationBytes: Int

    public init(store: any ConversationStore, owner: UserID, maxConversationBytes: Int) {
        self.store = store
        self.owner = owner
        self.maxConversationBytes = maxConversationBytes
    }

    /// Imports every conversation of the export read from `chunks`. Throws only what `chunks` throws (a client
    /// that went away, a body over its limit); a file that is not an export is reported, not thrown.
    public func run<Chunks: AsyncSequence>(_ chunks: Chunks) async throws -> Report where Chunks.Element: Sequence<UInt8> {
        var splitter = JSONElementSplitter(maxElementBytes: maxConversationBytes)
        var report = Report()
        do {
            for try await chunk in chunks {
                for piece in try splitter.feed(chunk) { try await take(piece, into: &report) }
            }
            try splitter.finish()
        } catch let failure as JSONElementSplitter.Failure {
            report.failure = failure.description
        }
        return report
    }

    private func take(_ piece: JSONElementSplitter.Piece, into report: inout Report) async throws {
        switch piece {
        case .tooLarge(let position):
            skip(position, title: nil, "larger than \(maxConversationBytes) bytes", in: &report)
        case .element(let position, let bytes):
            let parsed = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            guard let object = parsed as? [String: Any] else {
                return skip(position, title: nil, parsed == nil ? "not valid JSON" : "not a conversation", in: &report)
            }
            let title = (object["title"] as? String) ?? ((object["chat"] as? [String: Any])?["title"] as? String)
            guard let format = ExportFormat.of(object) else {
                return skip(position, title: title, "not a conversation of ChatGPT, Open WebUI, LibreChat or Parley", in: &report)
            }
            if !report.formats.contains(format) { report.formats.append(format) }
            let read = format.read(object)
            guard let imported = read.conversationImport(owner: owner) else {
                return skip(position, title: title, "no message with text", in: &report)
            }
            do {
                try await store.importConversation(imported)
            } catch let error as ParleyError {
                return skip(position, title: title, "\(error)", in: &report)
            }
            report.conversations += 1
            report.messages += imported.messages.count
            report.messagesLeftOut += read.nodes.count - imported.messages.count
        }
    }

    private func skip(_ position: Int, title: String?, _ reason: String, in report: inout Report) {
        report.skippedCount += 1
        if report.skipped.count < Self.maxSkippedListed {
            report.skipped.append(.init(position: position, title: title.map { String($0.prefix(200)) }, reason: reason))
        }
    }
}
