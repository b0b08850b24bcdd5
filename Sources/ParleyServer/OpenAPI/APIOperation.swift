/// One operation of the published API description: its route, what it is for, who may call it, what it takes and
/// what it answers. Errors are always the JSON error shape.
struct APIOperation: Sendable {
    /// Who may call an operation.
    enum Caller: Sendable {
        /// Anyone.
        case anyone
        /// A signed-in user (session cookie with its CSRF header, or an API key with the `chat` scope).
        case user
        /// An administrator.
        case admin
        /// An API key with the `gateway` scope (or a signed-in user).
        case gateway
        /// A visitor of a published assistant, with the token their chat was started with.
        case visitor
    }

    /// What a successful call answers.
    enum Answer: Sendable {
        /// A JSON object.
        case json(Int)
        /// Server-sent events (or, for `Accept: application/json`, the JSON object they end with).
        case events
        /// Text (a document's text, an export).
        case text
        /// A file's bytes, of its own type.
        case file
        /// No content.
        case empty
        /// A redirect.
        case redirect
    }

    /// What a call sends.
    enum Body: Sendable {
        case json(JSONSchema, required: Bool = true)
        /// The bytes of a file.
        case file
    }

    var method: String
    var path: String
    var summary: String
    var tag: String
    var caller: Caller
    var query: [String: JSONSchema]
    var body: Body?
    var answer: Answer

    init(_ method: String, _ path: String, _ summary: String, tag: String, caller: Caller = .user,
         query: [String: JSONSchema] = [:], body: Body? = nil, answer: Answer = .json(200)) {
        self.method = method
        self.path = path
        self.summary = summary
        self.tag = tag
        self.caller = caller
        self.query = query
        self.body = body
        self.answer = answer
    }

    /// `METHOD /path/{name}` as the route list writes it.
    var route: String { "\(method) \(path)" }

    /// The path's `{name}` parameters, in order.
    var pathParameters: [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") && $0.hasSuffix("}") }.map { String($0.dropFirst().dropLast()) }
    }
}
