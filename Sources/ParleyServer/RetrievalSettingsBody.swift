import Foundation
import ParleyCore

extension API {
    /// `retrieval` in a conversation's or an assistant's body, read field by field like `parameters`, so an unknown
    /// field or a value of the wrong type is reported by name; ``ChatSettingsChecks/retrieval(_:)`` checks the ranges.
    struct RetrievalSettingsBody: Decodable {
        var settings = RetrievalSettings()
        /// The first thing wrong with the body, as a message and the field it names.
        var problem: (message: String, field: String)?

        static let fields = ["passages", "min_similarity", "rerank"]

        init(from decoder: any Decoder) throws {
            var settings = RetrievalSettings()
            problem = try FieldReader.read(decoder, object: "retrieval", fields: Self.fields, kind: "a retrieval setting") { field in
                switch field.key.stringValue {
                case "passages": settings.passages = field.value(Int.self, "a whole number")
                case "min_similarity": settings.minimumSimilarity = field.value(Double.self, "a number")
                case "rerank": settings.rerank = field.value(Bool.self, "true or false")
                default: return false
                }
                return true
            }
            self.settings = settings
        }
    }
}

extension ChatSettingsChecks {
    /// Retrieval settings: passages within ``RetrievalSettings/passageRange``, a similarity floor from 0 to 1.
    func retrieval(_ body: API.RetrievalSettingsBody?) throws -> RetrievalSettings? {
        guard let body else { return nil }
        if let problem = body.problem { throw ClientError.invalid(problem.message, param: problem.field) }
        let settings = body.settings
        let range = RetrievalSettings.passageRange
        if let passages = settings.passages, !range.contains(passages) {
            throw ClientError.invalid("'retrieval.passages' must be from \(range.lowerBound) to \(range.upperBound)",
                                      param: "retrieval.passages")
        }
        if let floor = settings.minimumSimilarity, !(0...1).contains(floor) {
            throw ClientError.invalid("'retrieval.min_similarity' must be from 0 to 1", param: "retrieval.min_similarity")
        }
        return settings
    }
}
