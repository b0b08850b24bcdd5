import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ParleyCore
import ParleyGateway
import ParleyProviders

extension Request {
    /// Reads the body (at most `limit` bytes) and decodes it as `T`, with a 4xx that names the problem.
    mutating func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw ClientError.bodyTooLarge(limit: limit)
        } catch is NIOTooManyBytesError {
            throw ClientError.bodyTooLarge(limit: limit)
        }
        guard buffer.readableBytes > 0 else { throw ClientError.invalid("the request body must be a JSON object") }
        do {
            try StrictJSON.validate(Array(buffer.readableBytesView))
        } catch {
            throw ClientError.invalid(error.reason)
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw ClientError.invalid(Self.describe(error))
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError.invalid("the request body is not valid JSON")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context, key: key))'"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let field = path(context)
            if field.isEmpty { return "the request body must be a JSON object" }
            if case .valueNotFound = error { return "field '\(field)' must not be null" }
            return "field '\(field)' must be \(typeName(type))"
        case .dataCorrupted(let context):
            let field = path(context)
            return field.isEmpty ? "the request body is not valid JSON" : "field '\(field)': \(context.debugDescription)"
        @unknown default:
            return "the request body is not valid"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default: return "of type \(type)"
        }
    }
}

/// Reads and checks query parameters.
struct Query {
    let parameters: [String: String]

    init(_ request: Request) {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        self.parameters = parameters
    }

    func string(_ name: String, maxLength: Int) throws -> String? {
        guard let value = parameters[name] else { return nil }
        guard value.count <= maxLength else { throw ClientError.invalid("'\(name)' is longer than \(maxLength) characters") }
        return value
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let raw = parameters[name] else { return nil }
        guard let value = CheckedNumber.integer(raw, in: range) else {
            throw ClientError.invalid("'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// The `cursor` of a newest-first list of conversations, as the previous page gave it.
    func conversationCursor() throws -> ConversationCursor? {
        guard let token = try string("cursor", maxLength: 200) else { return nil }
        guard let cursor = ConversationCursor(token: token) else {
            throw ClientError.invalid("'cursor' is not a cursor this server issued")
        }
        return cursor
    }

    /// `true` or `false` (also `1` and `0`).
    func boolean(_ name: String) throws -> Bool? {
        guard let raw = parameters[name] else { return nil }
        switch raw.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw ClientError.invalid("'\(name)' must be true or false")
        }
    }
}

extension RequestContext {
    /// The UUID path parameter `name`; an id that is not a UUID cannot exist, so it is a 404.
    func uuid(_ name: String, kind: String) throws -> UUID {
        guard let raw = parameters.get(name), let id = UUID(text: raw) else {
            throw ClientError.notFound("no \(kind) with id '\(parameters.get(name) ?? "")'")
        }
        return id
    }
}

/// Text fields may not hold NUL: not every database can store it, and it never carries meaning in chat.
func rejectNUL(_ value: String?, field: String) throws {
    if let value, value.contains("\u{0}") {
        throw ClientError.invalid("'\(field)' must not contain NUL characters")
    }
}
