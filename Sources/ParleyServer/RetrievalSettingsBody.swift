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
            let container = try decoder.container(keyedBy: FieldKey.self)
            for key in container.allKeys {
                let field = "retrieval." + key.stringValue
                if try container.decodeNil(forKey: key) { continue }
                func value<T: Decodable>(_ type: T.Type, _ kind: String) -> T? {
                    if let value = try? container.decode(type, forKey: key) { return value }
                    if problem == nil { problem = ("'\(field)' must be \(kind)", field) }
                    return nil
                }
                switch key.stringValue {
                case "passages": settings.passages = value(Int.self, "a whole number")
                case "min_similarity": settings.minimumSimilarity = value(Double.self, "a number")
                case "rerank": settings.rerank = value(Bool.self, "true or false")
                default:
                    if problem == nil {
                        problem = ("'\(field)' is not a retrieval setting; use \(Self.fields.joined(separator: ", "))", field)
                    }
                }
            }
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
