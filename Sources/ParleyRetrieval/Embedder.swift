/// Turns texts into embedding vectors with a named model: the router's `/v1/embeddings` upstreams, or (issue 17)
/// a model inside Parley.
public protocol Embedder: Sendable {
    /// One vector per text, in order, all of one dimension. Throws ``EmbeddingFailure`` when the model cannot.
    func embed(_ texts: [String], model: String) async throws -> [[Float]]
}

/// Why texts could not be embedded, and whether trying again later may help.
public struct EmbeddingFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// True for failures that pass (upstream down, rate limited, timed out); false for a wrong model or input.
    public var mayPass: Bool

    public init(_ description: String, mayPass: Bool) {
        self.description = description
        self.mayPass = mayPass
    }
}
