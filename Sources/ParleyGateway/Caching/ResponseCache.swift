import ParleyCore
import Foundation

/// A model answer kept for reuse: a whole JSON body, or the chunks of a streamed answer in order, so a
/// replay streams exactly what the original did.
public struct CachedResponse: Sendable, Equatable {
    public enum Form: UInt8, Sendable {
        /// One part: the whole response body.
        case body = 1
        /// One part per streamed chunk.
        case stream = 2
    }

    public var form: Form
    public var parts: [[UInt8]]
    /// The deployment (`upstream/model`) that produced the answer.
    public var deployment: String
    /// The model that answered.
    public var model: String
    /// When the answer was stored, in seconds since 1970 (for the `Age` header).
    public var storedAt: Int64

    public init(form: Form, parts: [[UInt8]], deployment: String, model: String, storedAt: Int64 = Int64(Date().timeIntervalSince1970)) {
        self.form = form
        self.parts = parts
        self.deployment = deployment
        self.model = model
        self.storedAt = storedAt
    }

    /// What the entry costs a cache, payload and bookkeeping.
    public var byteCount: Int {
        parts.reduce(64 + deployment.utf8.count + model.utf8.count) { $0 + $1.count + 16 }
    }

    private static let magic: [UInt8] = Array("PC1".utf8)

    /// A compact binary form for caches outside the process.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = Self.magic
        out.reserveCapacity(byteCount)
        out.append(form.rawValue)
        Self.append(UInt64(bitPattern: storedAt), bytes: 8, to: &out)
        for text in [deployment, model] {
            Self.append(UInt64(text.utf8.count), bytes: 4, to: &out)
            out.append(contentsOf: text.utf8)
        }
        Self.append(UInt64(parts.count), bytes: 4, to: &out)
        for part in parts {
            Self.append(UInt64(part.count), bytes: 4, to: &out)
            out.append(contentsOf: part)
        }
        return out
    }

    /// Reads ``encoded()``; `nil` for anything else (an entry from another version is a miss, not an error).
    public init?<Bytes: RandomAccessCollection>(decoding bytes: Bytes) where Bytes.Element == UInt8, Bytes.Index == Int {
        var reader = ByteReader(bytes: bytes)
        guard reader.take(3).map({ Array($0) }) == Self.magic, let rawForm = reader.take(1)?.first,
              let form = Form(rawValue: rawForm), let stored = reader.integer(8),
              let deployment = reader.text(), let model = reader.text(), let count = reader.integer(4) else { return nil }
        var parts: [[UInt8]] = []
        parts.reserveCapacity(min(Int(count), 100_000))
        for _ in 0..<count {
            guard let length = reader.integer(4), let part = reader.take(Int(length)) else { return nil }
            parts.append(Array(part))
        }
        guard reader.atEnd else { return nil }
        self.init(form: form, parts: parts, deployment: deployment, model: model, storedAt: Int64(bitPattern: stored))
    }

    private static func append(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

/// Reads big-endian integers and length-prefixed text from bytes, failing softly on a short input.
private struct ByteReader<Bytes: RandomAccessCollection> where Bytes.Element == UInt8, Bytes.Index == Int {
    let bytes: Bytes
    var position: Int

    init(bytes: Bytes) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var atEnd: Bool { position == bytes.endIndex }

    mutating func take(_ count: Int) -> Bytes.SubSequence? {
        guard count >= 0, bytes.endIndex - position >= count else { return nil }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func integer(_ width: Int) -> UInt64? {
        guard let slice = take(width) else { return nil }
        return slice.reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func text() -> String? {
        guard let length = integer(4), let slice = take(Int(length)) else { return nil }
        return String(decoding: slice, as: UTF8.self)
    }
}

/// Where answers are kept between identical requests: ``MemoryResponseCache`` in the process, or Redis
/// (in `ParleyRedis`) shared by replicas. Keys are digests chosen by the caller; entries expire after
/// their time to live.
public protocol ResponseCache: Sendable {
    /// The live entry under `key`, if any.
    func get(_ key: String) async throws -> CachedResponse?
    /// Stores `response` under `key` for `ttl`.
    func put(_ key: String, _ response: CachedResponse, ttl: Duration) async throws
    /// Largest entry the cache accepts, in bytes (``CachedResponse/byteCount``); larger answers are not cached.
    var maxEntryBytes: Int { get }
}
