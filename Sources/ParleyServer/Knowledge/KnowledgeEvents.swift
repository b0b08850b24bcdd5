import Foundation
import Hummingbird
import NIOCore
import ParleyCore
import ParleyRetrieval
import Synchronization

/// `GET /api/v1/knowledge-bases/{id}/events`: the base's documents as they change, as server-sent events —
/// first each document (`event: document`), then each change of status or passage count, and `event: deleted`
/// for a document that went; and the base's embedding model with the progress of a change of model
/// (`event: embedding`), first and on each change. Read from the database twice a second, so it shows the work
/// of any replica.
///
/// The stream ends when the client leaves, when the replica shuts down, or after ``maxDuration`` (an
/// `EventSource` reconnects by itself).
enum KnowledgeEvents {
    static let interval: Duration = .milliseconds(500)
    static let keepAlive: Duration = .seconds(10)
    static let maxDuration: Duration = .seconds(600)

    static func response(baseID: UUID, reader: UserID, store: any KnowledgeStore, context: ParleyRequestContext,
                         drain: Drain) async throws -> Response {
        // An unknown or unreadable base is a 404 before the stream starts.
        let initialState = API.EmbeddingState(try await store.knowledgeBase(id: baseID, reader: reader))
        let initial = Dictionary(uniqueKeysWithValues: try await store.documents(baseID: baseID, reader: reader).map { ($0.id, $0) })
        let ended = Mutex(false)
        let watch = DepartureWatch(context: context) { ended.withLock { $0 = true } }
        return Response(status: .ok, headers: ServerSentEvents.headers, body: ResponseBody { writer in
            let registration = drain.register { ended.withLock { $0 = true } }
            defer {
                registration.end()
                watch.end()
            }
            var seen = initial
            var seenState = initialState
            var buffer = ByteBuffer(string: "retry: 2000\n\n")
            append(initialState, to: &buffer)
            for document in initial.values.sorted(by: { $0.createdAt < $1.createdAt }) { append(.changed(document), to: &buffer) }
            try await writer.write(buffer)
            let end = ContinuousClock.now + maxDuration
            var lastWrite = ContinuousClock.now
            while !ended.withLock({ $0 }), ContinuousClock.now < end {
                try await Task.sleep(for: interval)
                let current: [KnowledgeDocument]
                let state: API.EmbeddingState
                do {
                    current = try await store.documents(baseID: baseID, reader: reader)
                    state = API.EmbeddingState(try await store.knowledgeBase(id: baseID, reader: reader))
                } catch let error as ParleyError {
                    if case .notFound = error { break }  // the base was deleted, or unshared
                    continue  // the database is away for a moment; keep the stream
                }
                var buffer = ByteBuffer()
                if state != seenState { append(state, to: &buffer) }
                seenState = state
                for change in changes(from: seen, to: current) { append(change, to: &buffer) }
                seen = Dictionary(uniqueKeysWithValues: current.map { ($0.id, $0) })
                if buffer.readableBytes == 0, ContinuousClock.now - lastWrite >= keepAlive {
                    buffer.writeString(":\n\n")
                }
                if buffer.readableBytes > 0 {
                    try await writer.write(buffer)
                    lastWrite = .now
                }
            }
            try await writer.finish(nil)
        })
    }

    enum Change: Equatable {
        case changed(KnowledgeDocument)
        case deleted(UUID)
    }

    /// What differs between two readings of a base's documents, oldest document first.
    static func changes(from old: [UUID: KnowledgeDocument], to new: [KnowledgeDocument]) -> [Change] {
        let present = Set(new.map(\.id))
        let changed = new.sorted { $0.createdAt < $1.createdAt }.filter { document in
            guard let before = old[document.id] else { return true }
            return before.status != document.status || before.chunkCount != document.chunkCount
                || before.error != document.error || before.name != document.name
        }
        return changed.map(Change.changed) + old.keys.filter { !present.contains($0) }.sorted { $0.uuidString < $1.uuidString }
            .map(Change.deleted)
    }

    private static func append(_ state: API.EmbeddingState, to buffer: inout ByteBuffer) {
        let json = (try? JSONEncoder().encode(state)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        buffer.writeString("event: embedding\ndata: \(json)\n\n")
    }

    private static func append(_ change: Change, to buffer: inout ByteBuffer) {
        switch change {
        case .changed(let document):
            let json = (try? JSONEncoder().encode(API.Document(document))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            buffer.writeString("event: document\ndata: \(json)\n\n")
        case .deleted(let id):
            buffer.writeString("event: deleted\ndata: {\"id\":\"\(id.lowercased)\"}\n\n")
        }
    }
}
