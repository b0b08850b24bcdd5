import NIOCore
import NIOPosix
import Synchronization
import Foundation

/// Sends bytes that no HTTP client library would send (bad chunk sizes, unknown methods, lies in
/// `Content-Length`) over a plain TCP connection, and reads what comes back.
enum RawHTTP {
    struct Exchange: Sendable, CustomStringConvertible {
        /// Everything the server sent.
        var text: String
        /// The server closed the connection (rather than the wait running out).
        var closedByServer: Bool

        /// The status code of the first response, or 0.
        var status: Int {
            let line = text.prefix { $0 != "\r" }.split(separator: " ")
            return line.count >= 2 ? Int(line[1]) ?? 0 : 0
        }

        /// The first response's header `name` (case-insensitive).
        func header(_ name: String) -> String? {
            let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
            for line in head.split(separator: "\r\n").dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }

        /// The first response's body.
        var body: String { text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }

        var description: String { "\(closedByServer ? "closed" : "open"): \(text.prefix(400))" }
    }

    /// Writes `bytes`, then reads until the server closes or `wait` passes.
    static func exchange(port: Int, _ text: String, wait: Duration = .seconds(5)) async throws -> Exchange {
        try await exchange(port: port, bytes: Array(text.utf8), wait: wait)
    }

    /// Writes `text`, reads until what came back satisfies `leaveWhen` (or the server closes, or `wait` passes),
    /// then closes the connection from this side: a client that leaves.
    static func exchange(port: Int, _ text: String, wait: Duration = .seconds(60),
                         leaveWhen: @escaping @Sendable (String) -> Bool) async throws -> Exchange {
        let channel = try await connect(port: port)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: text))
            let received = Received()
            // Leaves when the condition holds, the server closes, or `wait` passes even with nothing arriving.
            let closed = try await withThrowingTaskGroup(of: Bool?.self) { group in
                group.addTask {
                    for try await chunk in inbound {
                        let text = received.text.withLock { $0 += String(buffer: chunk); return $0 }
                        if leaveWhen(text) { return false }
                    }
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: wait)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first ?? false
            }
            return Exchange(text: received.text.withLock { $0 }, closedByServer: closed)
        }
    }

    /// A plain TCP connection to the server on loopback, from `source` (any 127.x.y.z address is this machine
    /// on Linux: a way to be several clients).
    static func connect(port: Int, from source: String? = nil) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        return try await bootstrap
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Writes `bytes` as they are, then reads until the server closes or `wait` passes.
    static func exchange(port: Int, bytes: [UInt8], wait: Duration = .seconds(5), from source: String? = nil) async throws -> Exchange {
        let channel = try await connect(port: port, from: source)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            let received = Received()
            let closed = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    for try await chunk in inbound { received.text.withLock { $0 += String(buffer: chunk) } }
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: wait)
                    return false
                }
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
            return Exchange(text: received.text.withLock { $0 }, closedByServer: closed)
        }
    }
}

private final class Received: Sendable {
    let text = Mutex("")
}
