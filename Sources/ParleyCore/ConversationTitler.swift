import Foundation
import Synchronization

/// Names a conversation after its first exchange: a model (a small one, when configured) writes a short title
/// in the background, which replaces the first-line title unless the user has named the conversation.
public struct ConversationTitler: Sendable {
    public let store: any ConversationStore
    public let models: any ModelDirectory
    /// The model that writes titles; nil: the conversation's own.
    public let model: String?

    /// The longest title kept, in characters (cut at a word).
    static let maxLength = 80
    static let instructions = """
        Write a short title (at most six words) for the conversation below, in its language. \
        Reply with the title only: no quotes, no ending punctuation.
        """
    /// How much of each message the model reads.
    static let excerptLength = 1_500

    public init(store: any ConversationStore, models: any ModelDirectory, model: String?) {
        self.store = store
        self.models = models
        self.model = model
    }

    /// Writes the title of `conversationID` from its first question and answer; true when it was stored. A
    /// model that fails or answers nothing usable leaves the title as it is.
    @discardableResult
    public func nameConversation(_ conversationID: UUID, owner: UserID, question: String, answer: Message) async -> Bool {
        guard let name = model ?? answer.model, let resolved = try? await models.resolve(name) else { return false }
        let exchange = "User: \(question.prefix(Self.excerptLength))\n\nAssistant: \(answer.content.prefix(Self.excerptLength))"
        var request = ChatRequest(model: resolved.upstreamModel,
                                  messages: [ChatMessage(role: .system, content: Self.instructions),
                                             ChatMessage(role: .user, content: exchange)],
                                  maxTokens: 24, temperature: 0.2)
        request.cacheScope = owner.rawValue
        let text = TextCollector()
        guard (try? await resolved.provider.streamChat(request, onDelta: { delta in
            if case .text(let piece) = delta { text.append(piece) }
        })) != nil,
              let title = Self.cleaned(text.value) else { return false }
        return (try? await store.setGeneratedTitle(conversationID: conversationID, owner: owner, title: title)) ?? false
    }

    /// The model's reply as a title: its first line, without quotes, a "Title:" label or ending punctuation,
    /// cut at a word within ``maxLength``; nil when nothing is left.
    static func cleaned(_ reply: String) -> String? {
        var line = reply.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        line = line.trimmingCharacters(in: .whitespaces)
        if line.lowercased().hasPrefix("title:") { line = String(line.dropFirst(6)) }
        let wrapping = CharacterSet(charactersIn: "\"'“”‘’*#`").union(.whitespaces)
        var previous = ""
        while previous != line {
            previous = line
            line = line.trimmingCharacters(in: wrapping)
            while let last = line.last, ".!,;:".contains(last) { line.removeLast() }
        }
        if line.count > maxLength {
            let cut = line.prefix(maxLength)
            line = String(cut.lastIndex(of: " ").map { cut[..<$0] } ?? cut)
        }
        line = line.trimmingCharacters(in: .whitespaces)
        return line.isEmpty || line.contains("\u{0}") ? nil : line
    }
}

/// Text gathered from a stream's deltas, which may arrive on any thread.
final class TextCollector: Sendable {
    private let text = Mutex("")
    func append(_ piece: String) { text.withLock { $0 += piece } }
    var value: String { text.withLock { $0 } }
}
