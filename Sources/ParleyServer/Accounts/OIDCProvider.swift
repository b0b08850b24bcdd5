import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import ParleyAccounts
import ParleyCore
import Synchronization

/// The OpenID Connect provider as Parley talks to it: its discovery document and signing keys (fetched when first
/// needed and kept an hour; the keys again at once when a token names one not seen yet, at most once a minute),
/// the address a sign-in starts at, and the exchange of the code the browser brings back for a checked ID token.
final class OIDCProvider: Sendable {
    let settings: OIDCSettings
    private let client: HTTPClient
    private let logger: Logger
    private let verifier: IDTokenVerifier
    private struct Cached {
        var metadata: OIDCProviderMetadata?
        var keys: JWTKeyCollection?
        var fetchedAt = ContinuousClock.now
        var keysRefreshedAt: ContinuousClock.Instant?
    }
    private let cached = Mutex(Cached())
    static let cacheLifetime: Duration = .seconds(3600)
    static let maxDocumentBytes = 1 << 20

    init(settings: OIDCSettings, client: HTTPClient, logger: Logger) {
        self.settings = settings
        self.client = client
        self.logger = logger
        self.verifier = IDTokenVerifier(issuer: settings.issuer, clientID: settings.clientID)
    }

    /// Where the browser goes to sign in.
    func authorizationURL(for login: OIDCLoginState, redirectURL: String) async throws -> String {
        let metadata = try await metadata()
        var components = URLComponents(string: metadata.authorizationEndpoint)
        let existing = components?.queryItems ?? []
        components?.queryItems = existing + [
            URLQueryItem(name: "response_type", value: "code"),
            URLQueryItem(name: "client_id", value: settings.clientID),
            URLQueryItem(name: "redirect_uri", value: redirectURL),
            URLQueryItem(name: "scope", value: settings.scopes),
            URLQueryItem(name: "state", value: login.state),
            URLQueryItem(name: "nonce", value: login.nonce),
            URLQueryItem(name: "code_challenge", value: login.challenge),
            URLQueryItem(name: "code_challenge_method", value: "S256"),
        ]
        guard let url = components?.url?.absoluteString else {
            throw ParleyError.unavailable("the identity provider's authorization endpoint is not a URL")
        }
        return url
    }

    /// Trades the code for tokens and checks the ID token; its claims.
    func signIn(code: String, login: OIDCLoginState, redirectURL: String) async throws -> IDTokenClaims {
        let metadata = try await metadata()
        var form = URLComponents()
        form.queryItems = [
            URLQueryItem(name: "grant_type", value: "authorization_code"),
            URLQueryItem(name: "code", value: code),
            URLQueryItem(name: "redirect_uri", value: redirectURL),
            URLQueryItem(name: "client_id", value: settings.clientID),
            URLQueryItem(name: "code_verifier", value: login.verifier),
        ] + (settings.clientSecret.map { [URLQueryItem(name: "client_secret", value: $0)] } ?? [])
        var request = HTTPClientRequest(url: metadata.tokenEndpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        // `+` is a space in a form body: escape it, as URLComponents does not.
        request.body = .bytes(ByteBuffer(string: (form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")))
        let (status, body) = try await send(request, what: "token endpoint")
        guard status == 200 else {
            let reason = (try? JSONDecoder().decode(TokenError.self, from: body)).map { "\($0.error) \($0.errorDescription ?? "")" } ?? "status \(status)"
            throw AccountError.unauthenticated("the identity provider refused the sign-in: \(reason)")
        }
        guard let idToken = (try? JSONDecoder().decode(TokenReply.self, from: body))?.idToken, !idToken.isEmpty else {
            throw AccountError.unauthenticated("the identity provider sent no ID token")
        }
        do {
            return try await verifier.verify(idToken, keys: try await keys(), nonce: login.nonce)
        } catch AccountError.unauthenticated(let reason) where reason.contains("a key the provider does not publish") {
            // Keys rotate: fetch them again (at most once a minute) and try once more.
            guard let fresh = try await refreshedKeys() else { throw AccountError.unauthenticated(reason) }
            return try await verifier.verify(idToken, keys: fresh, nonce: login.nonce)
        }
    }

    // MARK: Discovery and keys

    private func metadata() async throws -> OIDCProviderMetadata {
        let fresh = cached.withLock { state -> OIDCProviderMetadata? in
            guard let metadata = state.metadata, ContinuousClock.now - state.fetchedAt < Self.cacheLifetime else { return nil }
            return metadata
        }
        if let fresh { return fresh }
        let address = settings.issuer.hasSuffix("/") ? String(settings.issuer.dropLast()) : settings.issuer
        let (status, body) = try await send(HTTPClientRequest(url: address + "/.well-known/openid-configuration"), what: "discovery document")
        guard status == 200, let metadata = try? JSONDecoder().decode(OIDCProviderMetadata.self, from: body) else {
            throw ParleyError.unavailable("the identity provider's discovery document could not be read (status \(status))")
        }
        guard metadata.issuer == settings.issuer else {
            throw ParleyError.unavailable("the identity provider calls itself '\(metadata.issuer)', not the configured oidc_issuer")
        }
        cached.withLock { $0 = Cached(metadata: metadata, keys: nil, fetchedAt: .now, keysRefreshedAt: nil) }
        return metadata
    }

    private func keys() async throws -> JWTKeyCollection {
        if let keys = cached.withLock({ $0.keys }) { return keys }
        return try await fetchKeys()
    }

    private func refreshedKeys() async throws -> JWTKeyCollection? {
        let allowed = cached.withLock { state -> Bool in
            if let last = state.keysRefreshedAt, ContinuousClock.now - last < .seconds(60) { return false }
            state.keysRefreshedAt = .now
            return true
        }
        return allowed ? try await fetchKeys() : nil
    }

    private func fetchKeys() async throws -> JWTKeyCollection {
        let metadata = try await metadata()
        let (status, body) = try await send(HTTPClientRequest(url: metadata.jwksURI), what: "signing keys")
        let keys = JWTKeyCollection()
        guard status == 200, let json = String(data: body, encoding: .utf8), (try? await keys.add(jwksJSON: json)) != nil else {
            throw ParleyError.unavailable("the identity provider's signing keys could not be read (status \(status))")
        }
        cached.withLock { $0.keys = keys }
        return keys
    }

    private func send(_ request: HTTPClientRequest, what: String) async throws -> (Int, Data) {
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: Self.maxDocumentBytes)
            return (Int(response.status.code), Data(buffer: body))
        } catch {
            logger.warning("identity provider unreachable", metadata: ["what": "\(what)", "error": "\(error)"])
            throw ParleyError.unavailable("the identity provider could not be reached (\(what))")
        }
    }

    private struct TokenReply: Decodable {
        var idToken: String?
        enum CodingKeys: String, CodingKey { case idToken = "id_token" }
    }

    private struct TokenError: Decodable {
        var error: String
        var errorDescription: String?
        enum CodingKeys: String, CodingKey {
            case error
            case errorDescription = "error_description"
        }
    }
}
