import Foundation
import ParleyCore

/// The published description of Parley's HTTP API, OpenAPI 3.1, served at `GET /openapi.json`: every route under
/// `/api/v1` and `/v1` (a test checks it against the routes the server registers, both ways), what each takes,
/// who may call it and what it answers. Written once, when first asked for.
enum APIDescription {
    static let version = "1.0.0"

    /// The document as JSON text.
    static let json: String = {
        let data = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }()

    /// The routes documented, as `METHOD /path/{name}`.
    static var routes: Set<String> { Set(operations.map(\.route)) }

    private static var document: [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            paths[operation.path, default: [:]][operation.method.lowercased()] = describe(operation)
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Parley",
                "version": version,
                "description": "The chat API (`/api/v1`) of a Parley server and its OpenAI-compatible gateway (`/v1`). "
                    + "Errors are `{\"error\": {\"type\", \"message\", \"param\"?, \"code\"?}}` with a 4xx status.",
            ],
            "paths": paths,
            "components": [
                "securitySchemes": [
                    "apiKey": ["type": "http", "scheme": "bearer", "description": "An API key (`pk-…`) from /api/v1/account/keys."],
                    "session": ["type": "apiKey", "in": "cookie", "name": "parley_session",
                                "description": "A signed-in browser; changes also send the X-CSRF-Token header."],
                    "visitorToken": ["type": "apiKey", "in": "header", "name": "Parley-Visitor-Token",
                                     "description": "The token a visitor's chat was started with."],
                ],
                "schemas": schemas.mapValues(\.value),
            ],
        ]
    }

    private static func describe(_ operation: APIOperation) -> [String: Any] {
        var described: [String: Any] = [
            "summary": operation.summary,
            "tags": [operation.tag],
            "operationId": operationID(operation),
        ]
        switch operation.caller {
        case .anyone: described["security"] = [[String: Any]]()
        case .user, .admin, .gateway: described["security"] = [["apiKey": []], ["session": []]]
        case .visitor: described["security"] = [["visitorToken": []], [String: Any]()]
        }
        var parameters: [[String: Any]] = operation.pathParameters.map { name in
            ["name": name, "in": "path", "required": true, "schema": JSONSchema.string(maxLength: 200).value]
        }
        for (name, schema) in operation.query.sorted(by: { $0.key < $1.key }) {
            parameters.append(["name": name, "in": "query", "required": false, "schema": schema.value])
        }
        if !parameters.isEmpty { described["parameters"] = parameters }
        switch operation.body {
        case .json(let schema, let required)?:
            described["requestBody"] = ["required": required, "content": ["application/json": ["schema": schema.value]]]
        case .file?:
            described["requestBody"] = ["required": true, "content": [
                "application/octet-stream": ["schema": ["type": "string", "format": "binary"]],
                "text/plain": ["schema": ["type": "string"]],
            ]]
        case nil:
            break
        }
        var responses: [String: Any] = [
            "4XX": ["description": "Refused: the error says why.", "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]],
        ]
        switch operation.answer {
        case .json(let status):
            responses[String(status)] = ["description": "OK", "content": ["application/json": ["schema": ["type": "object"]]]]
        case .events:
            responses["200"] = ["description": "The answer's events as they come (`Accept: application/json`: the finished result).",
                                // Each event's data: a JSON object (a message, a delta…), or `[DONE]` on /v1.
                                "content": ["text/event-stream": ["schema": ["anyOf": [["type": "object"], ["type": "string"]]]],
                                            "application/json": ["schema": ["type": "object"]]]]
            responses["201"] = ["description": "The finished result, for `Accept: application/json`.",
                                "content": ["application/json": ["schema": ["type": "object"]]]]
        case .text:
            responses["200"] = ["description": "OK", "content": ["text/plain": ["schema": ["type": "string"]]]]
        case .file:
            responses["200"] = ["description": "The file's bytes.",
                                "content": ["*/*": ["schema": ["type": "string", "format": "binary"]]]]
        case .empty:
            responses["204"] = ["description": "Done."]
        case .redirect:
            responses["302"] = ["description": "On to the next step."]
            responses["303"] = ["description": "On to the next step."]
        }
        described["responses"] = responses
        return described
    }

    /// `get_api_v1_conversations_id`: unique, from the method and path.
    private static func operationID(_ operation: APIOperation) -> String {
        let words = operation.path.split { !$0.isLetter && !$0.isNumber }.map(String.init)
        return ([operation.method.lowercased()] + words).joined(separator: "_")
    }

    /// The shapes operations share.
    static let schemas: [String: JSONSchema] = [
        "Error": .object(["error": .object(["type": .string(), "message": .string(), "param": JSONSchema.string().orNull,
                                            "code": JSONSchema.string().orNull], required: ["type", "message"])],
                         required: ["error"]),
        "ChatParameters": .object([
            "temperature": .number, "top_p": .number, "max_tokens": .integer(), "seed": .integer(),
            "stop": JSONSchema(value: ["anyOf": [JSONSchema.string().value, JSONSchema.array(.string()).value]]),
            "reasoning_effort": .string(enum: ["minimal", "low", "medium", "high"]),
        ]),
        "RetrievalSettings": .object([
            "passages": .integer(RetrievalSettings.passageRange), "min_similarity": .number, "rerank": .boolean,
        ]),
    ]
}
