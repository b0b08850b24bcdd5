/// Token counts reported by an upstream.
public struct TokenUsage: Sendable, Equatable, Codable {
    /// Counts come from upstreams, which are not trusted to be sane: each is kept within this range, so sums
    /// and budgets computed from them cannot overflow.
    public static let countRange = 0...CheckedNumber.wholeLimit

    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }
    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = CheckedNumber.clamped(promptTokens, to: Self.countRange)
        self.completionTokens = CheckedNumber.clamped(completionTokens, to: Self.countRange)
    }

    private enum CodingKeys: String, CodingKey { case promptTokens, completionTokens }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(promptTokens: try container.decode(Int.self, forKey: .promptTokens),
                  completionTokens: try container.decode(Int.self, forKey: .completionTokens))
    }
}
