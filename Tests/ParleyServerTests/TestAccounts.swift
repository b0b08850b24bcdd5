import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// Headers a test client sends with every request that does not name them itself: the API key of the account
/// the client acts as.
final class TestCredentials: Sendable {
    private let headers = Mutex<[String: String]>([:])

    var current: [String: String] { headers.withLock { $0 } }

    func use(key: String) { headers.withLock { $0 = ["Authorization": "Bearer " + key] } }
    func clear() { headers.withLock { $0 = [:] } }
    /// Acts with the same credentials as `other` (another replica's client, a restarted server's).
    func adopt(_ other: TestCredentials) {
        let copied = other.current
        headers.withLock { $0 = copied }
    }
}

/// A browser session as the tests hold it.
struct SignedIn: Sendable {
    var token: String
    var csrf: String
    var userID: String
    /// The cookie alone (what a cross-site request would carry).
    var cookie: [String: String] { ["Cookie": "parley_session=" + token] }
    /// The cookie and the CSRF token, as the UI sends them.
    var headers: [String: String] { cookie.merging(["X-CSRF-Token": csrf]) { $1 } }
}

/// Accounts the tests create.
enum TestUsers {
    static let adminEmail = "admin@example.com"
    static let password = "correct horse battery staple"
}

extension ParleyAPI {
    /// Creates the first administrator through the first-run endpoint, gives them a key for both APIs, and
    /// makes this client act with it from now on.
    @discardableResult
    func setUpAdmin(email: String = TestUsers.adminEmail, password: String = TestUsers.password) async throws -> SignedIn {
        let reply = try await request(.POST, "/api/v1/auth/setup",
                                      body: #"{"email":\#(quoted(email)),"password":\#(quoted(password)),"name":"Admin"}"#)
        try #require(reply.status == 201, "setup: \(reply.status) \(reply.body)")
        let session = try Self.session(from: reply)
        credentials.use(key: try await newKey(session))
        return session
    }

    /// Acts as the administrator of a server that may already have one (another replica made it): creates
    /// them if not, else signs in; either way gives this client a key of its own.
    func actAsAdmin() async throws {
        let state = try await request(.GET, "/api/v1/auth/session")
        if state.json["setup_required"] as? Bool == true {
            try await setUpAdmin()
        } else {
            credentials.use(key: try await newKey(try await signIn(email: TestUsers.adminEmail)))
        }
    }

    /// Signs in with a password and returns the session.
    func signIn(email: String, password: String = TestUsers.password, headers: [String: String] = [:]) async throws -> SignedIn {
        let reply = try await request(.POST, "/api/v1/auth/login",
                                      body: #"{"email":\#(quoted(email)),"password":\#(quoted(password))}"#, headers: headers)
        try #require(reply.status == 200, "login \(email): \(reply.status) \(reply.body)")
        return try Self.session(from: reply)
    }

    /// An API key made by `session`'s user.
    func newKey(_ session: SignedIn, scopes: [String] = ["chat", "gateway"], name: String = "test") async throws -> String {
        let scopeList = scopes.map(quoted).joined(separator: ",")
        let reply = try await request(.POST, "/api/v1/account/keys", body: #"{"name":\#(quoted(name)),"scopes":[\#(scopeList)]}"#,
                                      headers: session.headers)
        try #require(reply.status == 201, "create key: \(reply.status) \(reply.body)")
        return try #require(reply.json["key"] as? String)
    }

    /// A user the admin creates (as `session`), signed in.
    func createUser(_ email: String, role: String = "user", by admin: SignedIn) async throws -> SignedIn {
        let reply = try await request(.POST, "/api/v1/admin/users",
                                      body: #"{"email":\#(quoted(email)),"password":\#(quoted(TestUsers.password)),"role":\#(quoted(role))}"#,
                                      headers: admin.headers)
        try #require(reply.status == 201, "create user: \(reply.status) \(reply.body)")
        return try await signIn(email: email)
    }

    static func session(from reply: APIReply) throws -> SignedIn {
        let cookie = try #require(reply.headers["set-cookie"], "no Set-Cookie in \(reply.status) \(reply.body)")
        let token = try #require(cookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last.map(String.init))
        let csrf = try #require(reply.json["csrf_token"] as? String)
        let user = try #require(reply.json["user"] as? [String: any Sendable])
        return SignedIn(token: token, csrf: csrf, userID: try #require(user["id"] as? String))
    }
}
