import Crypto
import Foundation
import Hummingbird
import JWTKit
import Logging
import NIOCore
import ParleyAccounts
import ParleyTestSupport
import Synchronization

/// A small OpenID Connect provider for the tests: discovery, published keys (one ES256 key), an authorization
/// endpoint that signs in whoever the test says, and a token endpoint that checks the PKCE verifier, the
/// redirect address and the client before it hands out the ID token — honest, or spoilt the way a test asks.
final class OIDCProviderFixture: Sendable {
    /// How the next ID token is made.
    enum Token: Sendable {
        case honest
        /// Signed with a key the provider does not publish (under the published key's id).
        case forged
        case expired
        case wrongIssuer
        case wrongNonce
        case wrongAudience
        case unverifiedEmail
    }

    struct Pending: Sendable {
        var redirect: String
        var challenge: String
        var nonce: String
        var email: String
    }

    static let clientID = "parley-test"
    static let clientSecret = "fixture-secret"
    private let signing = ES256PrivateKey()
    private let forger = ES256PrivateKey()
    let keys = JWTKeyCollection()
    let forgedKeys = JWTKeyCollection()
    private let state = Mutex<(next: Token, email: String, codes: [String: Pending], discoveryIssuer: String?)>((.honest, "", [:], nil))
    private let running = Mutex<BackgroundService?>(nil)
    var issuer: String { "http://127.0.0.1:\(running.withLock { $0?.port ?? 0 })" }

    private init() {}

    static func start() async throws -> OIDCProviderFixture {
        let fixture = OIDCProviderFixture()
        await fixture.keys.add(ecdsa: fixture.signing, kid: "k1")
        await fixture.forgedKeys.add(ecdsa: fixture.forger, kid: "k1")
        let service = try await BackgroundService.start(logger: Logger(label: "oidc.fixture")) { onRunning in
            let router = Router()
            router.get(".well-known/openid-configuration") { _, _ in fixture.discovery() }
            router.get("jwks") { _, _ in fixture.jwks() }
            router.get("authorize") { request, _ in fixture.authorize(request) }
            router.post("token") { request, _ in try await fixture.token(request) }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "oidc"),
                               onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                               logger: Logger(label: "oidc.fixture"))
        }
        fixture.running.withLock { $0 = service }
        return fixture
    }

    func stop() async { try? await running.withLock { $0 }?.stop() }

    /// Who the next sign-in is, and how its token is made.
    func next(_ token: Token, email: String) { state.withLock { $0.next = token; $0.email = email } }

    /// Makes discovery name another issuer than the one configured.
    func claimIssuer(_ issuer: String?) { state.withLock { $0.discoveryIssuer = issuer } }

    private func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    private func discovery() -> Response {
        json(["issuer": state.withLock { $0.discoveryIssuer } ?? issuer, "authorization_endpoint": issuer + "/authorize",
              "token_endpoint": issuer + "/token", "jwks_uri": issuer + "/jwks"])
    }

    private func jwks() -> Response {
        guard let parameters = signing.publicKey.parameters else { return json([:], status: .internalServerError) }
        return json(["keys": [["kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
                               "x": parameters.x, "y": parameters.y]]])
    }

    private func authorize(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        guard query["response_type"].map(String.init) == "code", query["client_id"].map(String.init) == Self.clientID,
              query["code_challenge_method"].map(String.init) == "S256", let challenge = query["code_challenge"],
              let redirect = query["redirect_uri"], let sent = query["state"], let nonce = query["nonce"] else {
            return json(["error": "invalid_request"], status: .badRequest)
        }
        let code = Credentials.newToken()
        let email = state.withLock { $0.email }
        state.withLock { $0.codes[code] = Pending(redirect: String(redirect), challenge: String(challenge), nonce: String(nonce), email: email) }
        var back = URLComponents(string: String(redirect))!
        back.queryItems = [URLQueryItem(name: "code", value: code), URLQueryItem(name: "state", value: String(sent))]
        return Response(status: .found, headers: [.location: back.url!.absoluteString])
    }

    private func token(_ request: Request) async throws -> Response {
        let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
            if parts.count == 2 { form[parts[0]] = parts[1] }
        }
        guard form["grant_type"] == "authorization_code", form["client_id"] == Self.clientID,
              form["client_secret"] == Self.clientSecret, let code = form["code"],
              let pending = state.withLock({ $0.codes.removeValue(forKey: code) }) else {
            return json(["error": "invalid_grant", "error_description": "unknown code or client"], status: .badRequest)
        }
        let verifier = form["code_verifier"] ?? ""
        let challenge = Data(SHA256.hash(data: Array(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        guard challenge == pending.challenge, form["redirect_uri"] == pending.redirect else {
            return json(["error": "invalid_grant", "error_description": "PKCE verifier or redirect_uri mismatch"], status: .badRequest)
        }
        let kind = state.withLock { $0.next }
        let now = Date()
        let claims = IDTokenClaims(
            issuer: kind == .wrongIssuer ? "https://elsewhere.example" : issuer, subject: "user-\(pending.email)",
            audience: [kind == .wrongAudience ? "another-client" : Self.clientID],
            expires: kind == .expired ? now.addingTimeInterval(-600) : now.addingTimeInterval(300),
            issuedAt: kind == .expired ? now.addingTimeInterval(-900) : now,
            nonce: kind == .wrongNonce ? "not-the-nonce-of-this-sign-in" : pending.nonce,
            email: pending.email, emailVerified: kind == .unverifiedEmail ? false : true, name: "Fixture User")
        let signed = try await (kind == .forged ? forgedKeys : keys).sign(claims, kid: "k1")
        return json(["id_token": signed, "access_token": "unused", "token_type": "Bearer", "expires_in": 300])
    }
}
