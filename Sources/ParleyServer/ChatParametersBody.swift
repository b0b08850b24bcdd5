import Foundation
import ParleyCore

extension API {
    /// `parameters` in a conversation's or an assistant's body: read field by field, so an unknown field or a
    /// value of the wrong type is reported by name rather than ignored; ``ChatSettingsChecks/parameters(_:)``
    /// checks the ranges.
    struct ChatParametersBody: Decodable {
        var parameters = ChatParameters()
        /// The first thing wrong with the body, as a message and the field it names.
        var problem: (message: String, field: String)?

        static let fields = ["temperature", "top_p", "max_tokens", "seed", "stop", "reasoning_effort"]

        init(from decoder: any Decoder) throws {
            var parameters = ChatParameters()
            problem = try FieldReader.read(decoder, object: "parameters", fields: Self.fields, kind: "a parameter") { field in
                switch field.key.stringValue {
                case "temperature": parameters.temperature = field.value(Double.self, "a number")
                case "top_p": parameters.topP = field.value(Double.self, "a number")
                case "max_tokens": parameters.maxTokens = field.value(Int.self, "a whole number")
                case "seed": parameters.seed = field.value(Int.self, "a whole number")
                case "reasoning_effort": parameters.reasoningEffort = field.value(String.self, "a string")
                case "stop": parameters.stop = field.attempt(String.self).map { [$0] }
                    ?? field.value([String].self, "a string or an array of strings")
                default: return false
                }
                return true
            }
            self.parameters = parameters
        }
    }
}

extension ChatSettingsChecks {
    static let maxStopSequences = 4
    static let maxStopLength = 100

    /// Sampling parameters as OpenAI's API bounds them; `max_tokens` within the server's output limit.
    func parameters(_ body: API.ChatParametersBody?) throws -> ChatParameters? {
        guard let body else { return nil }
        if let problem = body.problem { throw ClientError.invalid(problem.message, param: problem.field) }
        let parameters = body.parameters
        if let temperature = parameters.temperature, !(0...2).contains(temperature) {
            throw ClientError.invalid("'parameters.temperature' must be from 0 to 2", param: "parameters.temperature")
        }
        if let topP = parameters.topP, !(topP > 0 && topP <= 1) {
            throw ClientError.invalid("'parameters.top_p' must be above 0 and at most 1", param: "parameters.top_p")
        }
        let outputLimit = limits.maxOutputTokens ?? 1_000_000
        if let maxTokens = parameters.maxTokens, !(1...outputLimit).contains(maxTokens) {
            throw ClientError.invalid("'parameters.max_tokens' must be from 1 to \(outputLimit)", param: "parameters.max_tokens")
        }
        if let seed = parameters.seed, !(Int(Int32.min)...Int(Int32.max)).contains(seed) {
            throw ClientError.invalid("'parameters.seed' must fit in 32 bits", param: "parameters.seed")
        }
        if let stop = parameters.stop {
            guard stop.count <= Self.maxStopSequences,
                  stop.allSatisfy({ !$0.isEmpty && $0.count <= Self.maxStopLength && !$0.contains("\u{0}") }) else {
                throw ClientError.invalid("'parameters.stop' takes up to \(Self.maxStopSequences) sequences of 1 to "
                                          + "\(Self.maxStopLength) characters", param: "parameters.stop")
            }
        }
        if let effort = parameters.reasoningEffort, !ChatParameters.reasoningEfforts.contains(effort) {
            throw ClientError.invalid("'parameters.reasoning_effort' must be one of "
                                      + ChatParameters.reasoningEfforts.joined(separator: ", "), param: "parameters.reasoning_effort")
        }
        return parameters
    }
}
