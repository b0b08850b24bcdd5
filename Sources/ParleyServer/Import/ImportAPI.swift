import Foundation
import ParleyImport

/// The JSON shape of an import's report.
extension API {
    struct ImportReport: Encodable {
        struct Skipped: Encodable {
            var position: Int
            var title: String?
            var reason: String
        }

        var formats: [String]
        var conversations: Int
        var messages: Int
        var messagesLeftOut: Int
        var skippedCount: Int
        var skipped: [Skipped]
        /// Set when the file stopped being readable part-way; what came before it was imported.
        var failure: String?

        enum CodingKeys: String, CodingKey {
            case formats, conversations, messages, skipped, failure
            case messagesLeftOut = "messages_left_out", skippedCount = "skipped_count"
        }

        init(_ report: ConversationImporter.Report) {
            formats = report.formats.map(\.rawValue)
            conversations = report.conversations
            messages = report.messages
            messagesLeftOut = report.messagesLeftOut
            skippedCount = report.skippedCount
            skipped = report.skipped.map { Skipped(position: $0.position, title: $0.title, reason: $0.reason) }
            failure = report.failure
        }
    }
}
