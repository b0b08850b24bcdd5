import Foundation

/// Finds what an answer should be grounded in: passages of the conversation's knowledge bases, numbered, for the
/// model to answer from and cite. Implemented by the retrieval module; the chat only calls it.
public protocol Grounding: Sendable {
    /// The sources for `question` (a follow-up is read with `earlierQuestions`, newest first), within
    /// `tokenBudget`; `knowledgeBaseIDs` are the conversation's, each checked as readable by `owner`, searched as
    /// `settings` say. Nil when none of them can be read any more (deleted, or no longer shared): the answer is not
    /// grounded.
    func ground(question: String, earlierQuestions: [String], knowledgeBaseIDs: [UUID], settings: RetrievalSettings,
                owner: UserID, tokenBudget: Int) async throws -> GroundedSources?
}

/// What grounding found: instructions and numbered passages for the model, and the same sources for the
/// message (shown as citations).
public struct GroundedSources: Sendable, Equatable {
    /// Added to the system prompt: how to answer and cite, and the passages (or that none was found).
    public var instructions: String
    /// The numbered sources as JSON, stored on the answer.
    public var sourcesJSON: String

    public init(instructions: String, sourcesJSON: String) {
        self.instructions = instructions
        self.sourcesJSON = sourcesJSON
    }
}
