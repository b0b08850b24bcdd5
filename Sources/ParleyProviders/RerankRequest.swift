import Foundation
import NIOCore

/// A rerank call: the documents to score against the query.
public struct RerankRequest: Sendable {
    public var query: String
    public var documents: [String]

    public init(query: String, documents: [String]) {
        self.query = query
        self.documents = documents
    }

    /// The JSON body for `model`: `{"model", "query", "documents", "top_n"}` (every document scored).
    func body(model: String) -> ByteBuffer {
        struct Wire: Encodable {
            var model: String
            var query: String
            var documents: [String]
            var top_n: Int
        }
        let wire = Wire(model: model, query: query, documents: documents, top_n: documents.count)
        return ByteBuffer(bytes: (try? JSONEncoder().encode(wire)) ?? Data())
    }
}
