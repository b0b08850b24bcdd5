import Crypto
import Foundation
import JWTKit

/// What an OpenID Connect provider publishes at `/.well-known/openid-configuration`: the parts Parley uses.
public struct OIDCProviderMetadata: Decodable, Sendable {
    public var issuer: String
    public var authorizationEndpoint: String
    public var tokenEndpoint: String
    public var jwksURI: String

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case jwksURI = "jwks_uri"
    }
}

/// The claims Parley reads from an ID token. Signature and expiry are checked by ``IDTokenVerifier``, which
/// then checks the issuer, the audience and the nonce.
public struct IDTokenClaims: JWTPayload {
    public var issuer: IssuerClaim
    public var subject: SubjectClaim
    public var audience: AudienceClaim
    public var expires: ExpirationClaim
    public var issuedAt: IssuedAtClaim?
    public var nonce: String?
    public var email: String?
    public var emailVerified: BoolClaim?
    public var name: String?

    enum CodingKeys: String, CodingKey {
        case email, name, nonce
        case issuer = "iss"
        case subject = "sub"
        case audience = "aud"
        case expires = "exp"
        case issuedAt = "iat"
        case emailVerified = "email_verified"
    }

    public init(issuer: String, subject: String, audience: [String], expires: Date, issuedAt: Date?, nonce: String?,
                email: String?, emailVerified: Bool?, name: String?) {
        self.issuer = IssuerClaim(value: issuer)
        self.subject = SubjectClaim(value: subject)
        self.audience = AudienceClaim(value: audience)
        self.expires = ExpirationClaim(value: expires)
        self.issuedAt = issuedAt.map { IssuedAtClaim(value: $0) }
        self.nonce = nonce
        self.email = email
        self.emailVerified = emailVerified.map { BoolClaim(value: $0) }
        self.name = name
    }

    /// Expiry, with a minute's leeway for clocks that differ.
    public func verify(using _: some JWTAlgorithm) async throws {
        try expires.verifyNotExpired(currentDate: Date().addingTimeInterval(-60))
    }
}

/// Checks an ID token from the token endpoint: signed by one of the provider's keys, issued by the configured
/// issuer, for this client, not expired, carrying the nonce of this sign-in, and naming a verified email.
public struct IDTokenVerifier: Sendable {
    public let issuer: String
    public let clientID: String

    public init(issuer: String, clientID: String) {
        self.issuer = issuer
        self.clientID = clientID
    }

    /// The token's claims; throws ``AccountError/unauthenticated(_:)`` saying what failed.
    public func verify(_ token: String, keys: JWTKeyCollection, nonce: String) async throws -> IDTokenClaims {
        let claims: IDTokenClaims
        do {
            claims = try await keys.verify(token, as: IDTokenClaims.self)
        } catch let error as JWTError {
            throw AccountError.unauthenticated("the identity provider's token was refused: \(Self.reason(error))")
        } catch {
            throw AccountError.unauthenticated("the identity provider's token could not be read")
        }
        guard claims.issuer.value == issuer else {
            throw AccountError.unauthenticated("the identity provider's token names another issuer")
        }
        guard claims.audience.value.contains(clientID) else {
            throw AccountError.unauthenticated("the identity provider's token is for another client")
        }
        guard let sent = claims.nonce, Credentials.constantTimeEqual(Array(sent.utf8), Array(nonce.utf8)) else {
            throw AccountError.unauthenticated("the identity provider's token belongs to another sign-in (nonce)")
        }
        guard let email = claims.email, User.normalizedEmail(email) != nil, claims.emailVerified?.value != false else {
            throw AccountError.unauthenticated("the identity provider sent no verified email address")
        }
        return claims
    }

    static func reason(_ error: JWTError) -> String {
        switch error.errorType {
        case .claimVerificationFailure: return "it has expired"
        case .signatureVerificationFailed: return "its signature does not match the provider's keys"
        case .missingKIDHeader, .unknownKID: return "it is signed with a key the provider does not publish"
        default: return "it is malformed"
        }
    }
}

/// The secrets of one sign-in in progress: `state` (ties the answer to this browser), `nonce` (ties the ID token
/// to it) and the PKCE verifier, whose SHA-256 goes to the provider as the challenge.
public struct OIDCLoginState: Sendable, Equatable {
    public var state: String
    public var nonce: String
    public var verifier: String

    public init() {
        state = Credentials.newToken()
        nonce = Credentials.newToken()
        verifier = Credentials.newToken()
    }

    init(state: String, nonce: String, verifier: String) {
        self.state = state
        self.nonce = nonce
        self.verifier = verifier
    }

    /// RFC 7636's S256 challenge: base64url of the verifier's SHA-256, without padding.
    public var challenge: String {
        Data(SHA256.hash(data: Array(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The cookie value that carries it to the callback.
    public var cookieValue: String { [state, nonce, verifier].joined(separator: ".") }

    /// Reads ``cookieValue``; nil when it is not one.
    public init?(cookieValue: String) {
        let parts = cookieValue.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts.allSatisfy({ (20...100).contains($0.count) && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } }) else {
            return nil
        }
        self.init(state: parts[0], nonce: parts[1], verifier: parts[2])
    }
}
