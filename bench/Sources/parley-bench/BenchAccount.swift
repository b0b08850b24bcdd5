import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The account benchmarks act as: on a fresh server, the first-run administrator (who also receives anything
/// seeded before accounts existed) and an API key of theirs, sent as `Authorization` on every `/api/v1` call.
enum BenchAccount {
    static let email = "bench@example.com"
    static let password = "correct horse battery staple"

    /// Creates the administrator and a key with every scope; the `Authorization` header value.
    static func authorization(client: HTTPClient, base: String) async throws -> String {
        var setup = HTTPClientRequest(url: base + "/api/v1/auth/setup")
        setup.method = .POST
        setup.headers.add(name: "Content-Type", value: "application/json")
        setup.body = .bytes(ByteBuffer(string: #"{"email":"\#(email)","password":"\#(password)"}"#))
        let created = try await client.execute(setup, timeout: .seconds(60))
        let state = try await created.body.collect(upTo: 1 << 20)
        guard created.status == .created, let cookie = created.headers.first(name: "set-cookie")?.split(separator: ";").first,
              let csrf = (try JSONSerialization.jsonObject(with: Data(buffer: state)) as? [String: Any])?["csrf_token"] as? String else {
            throw BenchAccountError("the first-run setup answered \(created.status)")
        }
        var make = HTTPClientRequest(url: base + "/api/v1/account/keys")
        make.method = .POST
        make.headers.add(name: "Content-Type", value: "application/json")
        make.headers.add(name: "Cookie", value: String(cookie))
        make.headers.add(name: "X-CSRF-Token", value: csrf)
        make.body = .bytes(ByteBuffer(string: #"{"name":"bench","scopes":["chat","gateway","admin"]}"#))
        let made = try await client.execute(make, timeout: .seconds(60))
        let body = try await made.body.collect(upTo: 1 << 20)
        guard made.status == .created,
              let key = (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["key"] as? String else {
            throw BenchAccountError("making the key answered \(made.status)")
        }
        return "Bearer " + key
    }
}

struct BenchAccountError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
