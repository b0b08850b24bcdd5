import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// `parley health`: asks a running server whether it is ready (`/health/ready`), for a container's
/// `HEALTHCHECK` or a script; exits 0 when it answers 200 within the timeout, 1 otherwise, with the reason.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that a running Parley answers its readiness check (exit status 0 when ready).")

    @Option(help: "The address to ask; by default this machine's server on PARLEY_PORT (8080).")
    var url: String?

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Int = 3

    func run() async throws {
        let port = ProcessInfo.processInfo.environment["PARLEY_PORT"].flatMap(Int.init) ?? 8080
        let address = url ?? "http://127.0.0.1:\(port)/health/ready"
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var status: UInt?
        var reason = ""
        do {
            let response = try await client.execute(HTTPClientRequest(url: address), timeout: .seconds(Int64(max(1, timeout))))
            status = response.status.code
            reason = String(buffer: try await response.body.collect(upTo: 64 << 10))
        } catch {
            reason = "\(error)"
        }
        try? await client.shutdown()
        guard status == 200 else {
            FileHandle.standardError.write(Data("not ready: \(status.map { "HTTP \($0) " } ?? "")\(reason)\n".utf8))
            throw ExitCode(1)
        }
        print("ready")
    }
}
