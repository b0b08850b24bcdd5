import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParleyAccounts
import ParleyCore
import ParleyRetrieval
import ParleyStore

/// `/api/v1/knowledge-bases`: bases (create, list, get, rename or share, delete), their documents (upload, list,
/// status, text, passages, cancel, retry, delete), ingestion progress as server-sent events, and search.
///
/// Anyone a base is shared with may read and search it; only its owner changes it (to others, its changes answer
/// 404, as for an unknown base). Only an administrator shares a base with everyone.
struct KnowledgeRoutes {
    let knowledge: KnowledgeService
    let accounts: GuardedConversationStore
    /// To check that an embedding model named on a new base is served.
    let models: any ModelDirectory
    let drain: Drain
    /// Largest JSON body read.
    let bodyLimit: Int

    static let maxReaders = KnowledgeService.maxReaders

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.post("knowledge-bases", use: create)
        group.get("knowledge-bases", use: list)
        group.get("knowledge-bases/:id", use: get)
        group.patch("knowledge-bases/:id", use: update)
        group.delete("knowledge-bases/:id", use: delete)
        group.post("knowledge-bases/:id/documents", use: upload)
        group.get("knowledge-bases/:id/documents", use: documents)
        group.get("knowledge-bases/:id/documents/:document", use: document)
        group.get("knowledge-bases/:id/documents/:document/passages", use: passages)
        group.get("knowledge-bases/:id/documents/:document/text", use: text)
        group.post("knowledge-bases/:id/documents/:document/cancel", use: cancel)
        group.post("knowledge-bases/:id/documents/:document/retry", use: retry)
        group.patch("knowledge-bases/:id/documents/:document", use: updateDocument)
        group.delete("knowledge-bases/:id/documents/:document", use: deleteDocument)
        group.get("knowledge-bases/:id/events", use: events)
        group.post("knowledge-bases/:id/search", use: search)
    }

    // MARK: Bases

    @Sendable func create(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(API.CreateKnowledgeBase.self, limit: bodyLimit)
        try rejectNUL(body.name, field: "name")
        try rejectNUL(body.description, field: "description")
        try await checkServed(body.embeddingModel)
        let base = try await knowledge.create(
            NewKnowledgeBase(name: body.name, description: body.description ?? "", embeddingModel: body.embeddingModel),
            owner: context.owner)
        var response = try Response.json(try await view(base, context), status: .created)
        response.headers[.location] = "/api/v1/knowledge-bases/\(base.id.lowercased)"
        return response
    }

    @Sendable func list(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        var views: [API.KnowledgeBase] = []
        for base in try await knowledge.store.knowledgeBases(reader: context.owner) { views.append(try await view(base, context)) }
        return try Response.json(API.KnowledgeBaseList(data: views))
    }

    @Sendable func get(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "knowledge base")
        return try Response.json(try await view(try await knowledge.store.knowledgeBase(id: id, reader: context.owner), context))
    }

    @Sendable func update(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "knowledge base")
        var request = request
        let body = try await request.decodeJSON(API.UpdateKnowledgeBase.self, limit: bodyLimit)
        try rejectNUL(body.name, field: "name")
        try rejectNUL(body.description, field: "description")
        if body.sharedWithEveryone == true, context.account?.user.role != .admin {
            throw ClientError.forbidden("only an administrator shares a knowledge base with everyone")
        }
        var readers: [UserID]?
        if let emails = body.readers {
            guard emails.count <= Self.maxReaders else {
                throw ClientError.invalid("a knowledge base can be shared with at most \(Self.maxReaders) users", param: "readers")
            }
            readers = try await userIDs(emails)
        }
        if let model = body.embeddingModel { try await checkServed(model) }
        var base = try await knowledge.update(id: id, owner: context.owner, patch: KnowledgeBasePatch(
            name: body.name, description: body.description, sharedWithEveryone: body.sharedWithEveryone, readers: readers))
        if let model = body.embeddingModel {
            base = try await knowledge.changeEmbeddingModel(baseID: id, owner: context.owner, to: model)
        }
        return try Response.json(try await view(base, context))
    }

    @Sendable func delete(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "knowledge base")
        try await knowledge.store.deleteKnowledgeBase(id: id, owner: context.owner)
        return Response(status: .noContent)
    }

    // MARK: Documents

    /// The file is the request body (`curl --data-binary @guide.pdf '…/documents?name=guide.pdf'`); its name comes
    /// from `name`, else the `filename` of `Content-Disposition`. Its type is read from its content.
    @Sendable func upload(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "knowledge base")
        let limit = knowledge.limits.maxDocumentBytes
        guard let name = try Query(request).string("name", maxLength: KnowledgeService.maxNameLength)
            ?? Self.filename(request.headers.value(of: .contentDisposition)) else {
            throw ClientError.invalid("name the document: '?name=guide.pdf' or a Content-Disposition filename", param: "name")
        }
        try rejectNUL(name, field: "name")
        if request.headers.value(of: .contentType)?.lowercased().hasPrefix("multipart/") == true {
            throw ClientError(.unsupportedMediaType, type: "invalid_request_error",
                              message: "send the file itself as the body (curl --data-binary @file), not a multipart form")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw ClientError.bodyTooLarge(limit: limit)
        }
        let added = try await knowledge.upload(name: name, content: Array(buffer: body), baseID: id, owner: context.owner)
        var response = try Response.json(API.AddedDocument(document: API.Document(added.document), duplicate: added.duplicate),
                                         status: added.duplicate ? .ok : .created)
        response.headers[.location] = "/api/v1/knowledge-bases/\(id.lowercased)/documents/\(added.document.id.lowercased)"
        return response
    }

    @Sendable func documents(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "knowledge base")
        let documents = try await knowledge.store.documents(baseID: id, reader: context.owner)
        return try Response.json(API.DocumentList(data: documents.map(API.Document.init)))
    }

    @Sendable func document(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let (base, document) = try ids(context)
        return try Response.json(API.Document(try await knowledge.store.document(id: document, baseID: base, reader: context.owner)))
    }

    @Sendable func passages(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let (base, document) = try ids(context)
        let passages = try await knowledge.store.chunks(documentID: document, baseID: base, reader: context.owner)
        return try Response.json(API.PassageList(data: passages.map(API.Passage.init)))
    }

    /// The document's text as it was read (offsets of passages point into it), as `text/plain`.
    @Sendable func text(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let (base, document) = try ids(context)
        let text = try await knowledge.text(documentID: document, baseID: base, reader: context.owner)
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    @Sendable func cancel(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let (base, document) = try ids(context)
        return try Response.json(API.Document(try await knowledge.store.cancelDocument(id: document, baseID: base, owner: context.owner)))
    }

    @Sendable func retry(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let (base, document) = try ids(context)
        return try Response.json(API.Document(try await knowledge.retry(documentID: document, baseID: base, owner: context.owner)))
    }

    /// Pins or unpins a document (`{"pinned": true}`): a pinned document is given whole to the model.
    @Sendable func updateDocument(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let (base, document) = try ids(context)
        var request = request
        let body = try await request.decodeJSON(API.DocumentPatch.self, limit: bodyLimit)
        guard let pinned = body.pinned else { throw ClientError.invalid("nothing to change: send 'pinned'") }
        return try Response.json(API.Document(try await knowledge.pin(documentID: document, baseID: base, owner: context.owner,
                                                                     pinned: pinned)))
    }

    @Sendable func deleteDocument(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let (base, document) = try ids(context)
        try await knowledge.store.deleteDocument(id: document, baseID: base, owner: context.owner)
        return Response(status: .noContent)
    }

    @Sendable func events(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "knowledge base")
        return try await KnowledgeEvents.response(baseID: id, reader: context.owner, store: knowledge.store,
                                                  context: context, drain: drain)
    }

    // MARK: Search

    @Sendable func search(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let id = try context.uuid("id", kind: "knowledge base")
        var request = request
        let body = try await request.decodeJSON(API.SearchKnowledge.self, limit: bodyLimit)
        try rejectNUL(body.query, field: "query")
        let found = try await knowledge.search(body.query, baseID: id, reader: context.owner, limit: body.limit ?? 8,
                                               rerank: body.rerank ?? true)
        return try Response.json(API.KnowledgeSearchResults(mode: found.mode.rawValue, note: found.note, rerankedBy: found.rerankedBy,
                                                            data: found.passages.map(API.Passage.init)))
    }

    // MARK: Helpers

    private func ids(_ context: ParleyRequestContext) throws -> (UUID, UUID) {
        (try context.uuid("id", kind: "knowledge base"), try context.uuid("document", kind: "document"))
    }

    private func view(_ base: KnowledgeBase, _ context: ParleyRequestContext) async throws -> API.KnowledgeBase {
        let owned = base.ownerID == context.owner
        var emails: [String]?
        if owned {
            var found: [String] = []
            for reader in base.readers {
                if let user = try await accounts.user(id: reader) { found.append(user.email) }
            }
            emails = found.sorted()
        }
        return API.KnowledgeBase(base, owned: owned, readerEmails: emails)
    }

    /// An embedding model named for a base must be one the router serves.
    private func checkServed(_ model: String?) async throws {
        try rejectNUL(model, field: "embedding_model")
        guard let model, !model.isEmpty else { return }
        guard model.count <= 200 else { throw ClientError.invalid("'embedding_model' is longer than 200 characters") }
        _ = try await models.resolve(model)
    }

    /// The users with these emails; an unknown one is a 400 naming it.
    private func userIDs(_ emails: [String]) async throws -> [UserID] {
        var ids: [UserID] = []
        for email in emails {
            guard let address = User.normalizedEmail(email), let user = try await accounts.user(email: address) else {
                throw ClientError.invalid("no user has the email address '\(email.prefix(200))'", param: "readers")
            }
            ids.append(user.id)
        }
        return ids
    }

    /// The `filename` of a `Content-Disposition` header (quoted or not); `filename*` is not read.
    static func filename(_ header: String?) -> String? {
        guard let header, let range = header.range(of: "filename=", options: .caseInsensitive) else { return nil }
        var value = header[range.upperBound...]
        if value.hasPrefix("\"") {
            value = value.dropFirst()
            return value.firstIndex(of: "\"").map { String(value[..<$0]) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        let name = value.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? nil : name
    }
}
