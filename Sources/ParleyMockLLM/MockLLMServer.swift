import Foundation
import NIOFoundationCompat
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// `parley mock-llm`: a fast OpenAI-compatible model server for tests, benchmarks and trying Parley out.
/// `GET /v1/models`, `POST /v1/chat/completions` (streaming or not), `POST /v1/embeddings`, `POST /v1/rerank`, plus
/// `GET /mock/stats` (request counters, and `streams_abandoned`: streams whose client left before the end) and
/// `POST /mock/reset`. See ``MockScript`` for the knobs.
public struct MockLLMServer: Sendable {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 9100
        public var models = ["mock-1", "mock-2"]
        public var defaults = MockScript()
        /// When set, requests must carry `Authorization: Bearer <apiKey>`.
        public var apiKey: String?
        public var embeddingDimensions = 8
        /// How long each `/v1/embeddings` request takes, to make ingestion slow enough to interrupt.
        public var embeddingDelayMs = 0
        public init() {}
    }

    /// Requests served, by endpoint.
    public final class Counters: Sendable {
        let values = Mutex<[String: Int]>([:])
        func bump(_ key: String) { values.withLock { $0[key, default: 0] += 1 } }
        public var snapshot: [String: Int] { values.withLock { $0 } }
        /// Requests seen per prompt, for `fault_times`.
        let faultHits = Mutex<[String: Int]>([:])
        func reset() {
            values.withLock { $0.removeAll() }
            faultHits.withLock { $0.removeAll() }
        }
        /// Counts a faulty request; true while the fault still applies.
        func faultApplies(prompt: String, times: Int?) -> Bool {
            guard let times else { return true }
            return faultHits.withLock { hits in
                hits[prompt, default: 0] += 1
                return hits[prompt]! <= times
            }
        }
    }

    public let options: Options
    public let counters = Counters()

    public init(options: Options) {
        self.options = options
    }

    /// The application; `onRunning` receives the bound port.
    public func application(logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let router = Router()
        router.get("v1/models") { request, _ in try self.models(request) }
        router.post("v1/chat/completions") { request, context in try await self.chat(request, context: context) }
        router.post("v1/embeddings") { request, context in try await self.embeddings(request, context: context) }
        router.post("v1/rerank") { request, context in try await self.rerank(request, context: context) }
        router.get("mock/stats") { _, _ in try Self.json(self.counters.snapshot) }
        router.post("mock/reset") { _, _ in
            self.counters.reset()
            return Response(status: .noContent)
        }
        return Application(router: router,
                           configuration: .init(address: .hostname(options.host, port: options.port),
                                                serverName: "parley-mock-llm"),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                           logger: logger)
    }

    // MARK: Endpoints

    private func models(_ request: Request) throws -> Response {
        counters.bump("models")
        if let denied = authorize(request) { return denied }
        let data = options.models.map { ["id": $0, "object": "model", "created": 0, "owned_by": "parley-mock"] as [String: Any] }
        return try Self.json(["object": "list", "data": data] as [String: Any])
    }

    /// The sampling fields of a chat request, as sorted JSON (`{}` when none).
    static func samplingParameters(of object: [String: Any]) -> String {
        let keys = ["temperature", "top_p", "seed", "stop", "reasoning_effort", "max_tokens"]
        let picked = object.filter { keys.contains($0.key) }
        guard let data = try? JSONSerialization.data(withJSONObject: picked, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    private func chat(_ request: Request, context: some RequestContext) async throws -> Response {
        counters.bump("chat_completions")
        if let denied = authorize(request) { return denied }
        let body = try await request.body.collect(upTo: 16 << 20)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
              let model = object["model"] as? String, let messages = object["messages"] as? [[String: Any]],
              !messages.isEmpty
        else {
            return Self.error(.badRequest, "the body must be a JSON object with 'model' and a non-empty 'messages'")
        }
        let prompt = messages.last(where: { ($0["role"] as? String) == "user" }).map(Self.text(of:)) ?? ""
        var script = options.defaults
        for field in request.headers where field.name.canonicalName.hasPrefix("x-mock-") {
            script.apply(String(field.name.canonicalName.dropFirst("x-mock-".count)), field.value)
        }
        script.apply(directivesIn: prompt)
        if script.fault != nil, !counters.faultApplies(prompt: prompt, times: script.faultTimes) { script.fault = nil }
        var finishReason = "stop"
        if let maxTokens = object["max_tokens"] as? Int ?? object["max_completion_tokens"] as? Int, maxTokens < script.tokens {
            script.tokens = max(0, maxTokens)
            finishReason = "length"
        }
        switch script.fault {
        case .serverError?: return Self.error(.internalServerError, "mock: injected server error", type: "server_error")
        case .badRequest?: return Self.error(.badRequest, "mock: injected bad request")
        case .rateLimited?:
            var response = Self.error(.tooManyRequests, "mock: rate limit reached", type: "rate_limit_exceeded")
            response.headers[.retryAfter] = String(script.retryAfterSeconds)
            return response
        default: break
        }
        let promptTokens = messages.reduce(0) { $0 + (Self.text(of: $1).utf8.count + 3) / 4 + 4 }
        let system = messages.filter { ($0["role"] as? String) == "system" }.map(Self.text(of:)).joined(separator: "\n")
        let context = script.echoContext
            ? messages.map { "\($0["role"] as? String ?? "?"): \(Self.text(of: $0))\(Self.images(of: $0))" }.joined(separator: "\n") : nil
        let echoed = script.echoParameters ? Self.samplingParameters(of: object)
            : context ?? (script.echoSystem ? system : script.echo ? prompt : nil)
        let tokens = MockScript.replyTokens(count: script.tokens, echoing: echoed)
        let id = "chatcmpl-mock-\(UInt32.random(in: 0...UInt32.max))"
        if (object["stream"] as? Bool) == true {
            let streamOptions = object["stream_options"] as? [String: Any]
            let includeUsage = (streamOptions?["include_usage"] as? Bool) == true
            return stream(tokens: tokens, script: script, id: id, model: model, promptTokens: promptTokens,
                          includeUsage: includeUsage, finishReason: finishReason)
        }
        if script.firstTokenDelayMs > 0 || script.fault == .slow {
            try await Task.sleep(for: .milliseconds(script.fault == .slow && script.firstTokenDelayMs == 0 ? 30_000 : script.firstTokenDelayMs))
        }
        var message: [String: Any] = ["role": "assistant", "content": tokens.joined()]
        if script.reasoningTokens > 0 { message["reasoning_content"] = MockScript.reasoningTokens(count: script.reasoningTokens).joined() }
        let completion: [String: Any] = [
            "id": id, "object": "chat.completion", "created": Int(Date().timeIntervalSince1970), "model": model,
            "choices": [["index": 0, "message": message, "finish_reason": finishReason]],
            "usage": ["prompt_tokens": promptTokens, "completion_tokens": tokens.count,
                      "total_tokens": promptTokens + tokens.count],
        ]
        return try Self.json(completion)
    }

    private func stream(tokens: [String], script: MockScript, id: String, model: String, promptTokens: Int,
                        includeUsage: Bool, finishReason: String) -> Response {
        let created = Int(Date().timeIntervalSince1970)
        let prefix = "{\"id\":\"\(id)\",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":\(Self.quote(model)),\"choices\":["
        @Sendable func chunk(_ delta: String, finish: String? = nil) -> String {
            let reason = finish.map { "\"\($0)\"" } ?? "null"
            return "data: " + prefix + "{\"index\":0,\"delta\":{\(delta)},\"finish_reason\":\(reason)}]}\n\n"
        }
        let usage = "data: {\"id\":\"\(id)\",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":\(Self.quote(model)),\"choices\":[],\"usage\":{\"prompt_tokens\":\(promptTokens),\"completion_tokens\":\(tokens.count),\"total_tokens\":\(promptTokens + tokens.count)}}\n\n"
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                        body: ResponseBody { writer in
            do {
                var firstDelay = script.firstTokenDelayMs
                if script.fault == .slow && firstDelay == 0 { firstDelay = 30_000 }
                if firstDelay > 0 { try await Self.wait(milliseconds: firstDelay, writer: &writer) }
                let cutAt = script.fault == .cut ? tokens.count / 2 : (script.fault == .hang ? 1 : nil)
                var pending = chunk("\"role\":\"assistant\",\"content\":\"\"")
                for piece in MockScript.reasoningTokens(count: script.reasoningTokens) {
                    pending += chunk("\"reasoning_content\":" + Self.quote(piece))
                    if script.tokenDelayMs > 0 {
                        try await writer.write(ByteBuffer(string: pending))
                        pending = ""
                        try await Task.sleep(for: .milliseconds(script.tokenDelayMs))
                    }
                }
                for (index, token) in tokens.enumerated() {
                    if let cutAt, index >= cutAt { break }
                    if script.fault == .garbage && index == 1 { pending += "data: {not json\n\n" }
                    pending += chunk("\"content\":" + Self.quote(token))
                    if script.tokenDelayMs > 0 {
                        try await writer.write(ByteBuffer(string: pending))
                        pending = ""
                        try await Task.sleep(for: .milliseconds(script.tokenDelayMs))
                    }
                }
                if script.fault == .cut {
                    if !pending.isEmpty { try await writer.write(ByteBuffer(string: pending)) }
                    throw MockFault.connectionCut
                }
                if script.fault == .hang {
                    if !pending.isEmpty { try await writer.write(ByteBuffer(string: pending)) }
                    try await Self.wait(milliseconds: 3_600_000, writer: &writer)
                }
                pending += chunk("", finish: finishReason)
                if includeUsage { pending += usage }
                pending += "data: [DONE]\n\n"
                try await writer.write(ByteBuffer(string: pending))
                try await writer.finish(nil)
            } catch {
                // The client went away mid-answer (an injected cut is the mock's own doing).
                if !(error is MockFault) { counters.bump("streams_abandoned") }
                throw error
            }
        })
    }

    /// Waits without sending any event, but writes an empty comment line every 100 ms so that a client that
    /// went away ends the wait (the write fails) instead of keeping the handler, and shutdown, waiting.
    private static func wait(milliseconds: Int, writer: inout some ResponseBodyWriter) async throws {
        let deadline = ContinuousClock.now + .milliseconds(milliseconds)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
            try await writer.write(ByteBuffer(string: ":\n"))
        }
    }

    private func embeddings(_ request: Request, context: some RequestContext) async throws -> Response {
        counters.bump("embeddings")
        if let denied = authorize(request) { return denied }
        if options.embeddingDelayMs > 0 { try await Task.sleep(for: .milliseconds(options.embeddingDelayMs)) }
        let body = try await request.body.collect(upTo: 16 << 20)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
              let model = object["model"] as? String else {
            return Self.error(.badRequest, "the body must be a JSON object with 'model' and 'input'")
        }
        let inputs: [String]
        switch object["input"] {
        case let text as String: inputs = [text]
        case let texts as [String]: inputs = texts
        case let tokenLists as [[Int]]: inputs = tokenLists.map { $0.map(String.init).joined(separator: " ") }
        default: return Self.error(.badRequest, "'input' must be a string or an array of strings")
        }
        let dimensions = (object["dimensions"] as? Int).map { max(1, min($0, 4096)) } ?? options.embeddingDimensions
        let data = inputs.enumerated().map { index, text -> [String: Any] in
            ["object": "embedding", "index": index, "embedding": Self.embedding(of: text, dimensions: dimensions)]
        }
        let tokens = inputs.reduce(0) { $0 + ($1.utf8.count + 3) / 4 }
        return try Self.json(["object": "list", "model": model, "data": data,
                              "usage": ["prompt_tokens": tokens, "total_tokens": tokens]] as [String: Any])
    }

    /// Cohere's rerank shape: each document scored by the share of the query's words it holds (a `mock:fault=…`
    /// word in the query fails it as for chat).
    private func rerank(_ request: Request, context: some RequestContext) async throws -> Response {
        counters.bump("rerank")
        if let denied = authorize(request) { return denied }
        let body = try await request.body.collect(upTo: 16 << 20)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
              object["model"] is String, let query = object["query"] as? String, let documents = object["documents"] as? [String] else {
            return Self.error(.badRequest, "the body must be a JSON object with 'model', 'query' and 'documents'")
        }
        var script = options.defaults
        script.apply(directivesIn: query)
        switch script.fault {
        case .serverError?: return Self.error(.internalServerError, "mock: injected server error", type: "server_error")
        case .badRequest?: return Self.error(.badRequest, "mock: injected bad request")
        default: break
        }
        func words(_ text: String) -> Set<String> {
            Set(text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { $0.count > 2 })
        }
        let asked = words(query.split(separator: " ").filter { !$0.hasPrefix("mock:") }.joined(separator: " "))
        let results = documents.enumerated().map { index, document -> [String: Any] in
            let score = asked.isEmpty ? 0 : Double(asked.intersection(words(document)).count) / Double(asked.count)
            return ["index": index, "relevance_score": score]
        }.sorted { ($0["relevance_score"] as! Double) > ($1["relevance_score"] as! Double) }
        let topN = (object["top_n"] as? Int).map { max(0, $0) } ?? results.count
        return try Self.json(["object": "rerank", "model": object["model"]!, "results": Array(results.prefix(topN))] as [String: Any])
    }

    // MARK: Helpers

    private func authorize(_ request: Request) -> Response? {
        guard let key = options.apiKey else { return nil }
        guard request.headers[.authorization] == "Bearer \(key)" else {
            return Self.error(.unauthorized, "mock: missing or wrong API key", type: "invalid_api_key")
        }
        return nil
    }

    /// A deterministic unit vector for `text`.
    public static func embedding(of text: String, dimensions: Int) -> [Double] {
        var values = [Double](repeating: 0, count: dimensions)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            values[Int(hash % UInt64(dimensions))] += Double(Int(hash >> 40 & 0xff)) - 127.5
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? values.map { $0 / norm } : values.map { _ in 1 / Double(dimensions).squareRoot() }
    }

    private static func text(of message: [String: Any]) -> String {
        if let text = message["content"] as? String { return text }
        if let parts = message["content"] as? [[String: Any]] {
            return parts.compactMap { $0["text"] as? String }.joined(separator: "\n")
        }
        return ""
    }

    /// The image parts of a message, as ` [image image/png 1234 bytes ]` each (a URL that is not
    /// `data:` as ` [image url]`), so a test sees exactly what reached the model.
    private static func images(of message: [String: Any]) -> String {
        guard let parts = message["content"] as? [[String: Any]] else { return "" }
        return parts.compactMap { part -> String? in
            guard part["type"] as? String == "image_url" else { return nil }
            let url = (part["image_url"] as? [String: Any])?["url"] as? String ?? ""
            guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ","),
                  let data = Data(base64Encoded: String(url[url.index(after: comma)...])) else { return " [image url]" }
            let mediaType = url.dropFirst(5).prefix { $0 != ";" && $0 != "," }
            return " [image \(mediaType) \(data.count) bytes]"
        }.joined()
    }

    private static func quote(_ text: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [text])
        let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
        return String(array.dropFirst().dropLast())
    }

    static func json(_ object: Any) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object)
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error")
        -> Response
    {
        let object: [String: Any] = ["error": ["message": message, "type": type, "code": NSNull(), "param": NSNull()]]
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

enum MockFault: Error {
    case connectionCut
}
