import NIOCore
import ParleyCore
import ParleyGateway

/// The ``ResponseCache`` shared by replicas: one Redis string per entry (``CachedResponse/encoded()``),
/// expiring by its time to live. Redis's own `maxmemory` bounds the total; run it with
/// `maxmemory-policy allkeys-lru` (or `volatile-lru`) so the oldest answers go first.
public final class RedisResponseCache: ResponseCache {
    public static let prefix = "parley:cache:"
    private let client: RedisClient
    public let maxEntryBytes: Int

    public init(client: RedisClient, maxEntryBytes: Int = 1 << 20) {
        self.client = client
        self.maxEntryBytes = maxEntryBytes
    }

    public func get(_ key: String) async throws -> CachedResponse? {
        let reply = try await client.send(["GET", .text(Self.prefix + key)])
        guard case .bulk(let buffer?) = reply else { return nil }
        return CachedResponse(decoding: buffer.readableBytesView)
    }

    public func put(_ key: String, _ response: CachedResponse, ttl: Duration) async throws {
        guard response.byteCount <= maxEntryBytes else { return }
        let milliseconds = max(1, Int(ttl.wholeMilliseconds))
        var value = ByteBuffer()
        value.writeBytes(response.encoded())
        try await client.send(["SET", .text(Self.prefix + key), .bytes(value), "PX", .int(milliseconds)])
    }
}
