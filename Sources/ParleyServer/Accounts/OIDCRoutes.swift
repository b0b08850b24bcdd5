import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ParleyAccounts
import ParleyCore

/// `/api/v1/auth/oidc`: single sign-on through an OpenID Connect provider. `start` sends the browser to the
/// provider with a fresh state, nonce and PKCE challenge (kept in a short-lived cookie for the way back);
/// `callback` checks the state, trades the code for an ID token, checks it, and signs the user in (an account is
/// made as the sign-up mode allows). Both are browser navigations: failures go back to the UI as
/// `/#sso-error=…`, which shows them on the sign-in form.
struct OIDCRoutes {
    static let cookieName = "parley_oidc"
    static let cookiePath = "/api/v1/auth/oidc"

    let provider: OIDCProvider?
    let authenticator: Authenticator
    let cookie: SessionCookie

    func register(on group: some RouterMethods<ParleyRequestContext>) {
        group.get("oidc/start", use: start)
        group.get("oidc/callback", use: callback)
    }

    @Sendable func start(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let provider = try configured()
        let login = OIDCLoginState()
        do {
            let address = try await provider.authorizationURL(for: login, redirectURL: try redirectURL(request, provider))
            return Response(status: .found, headers: [
                .location: address, .cacheControl: "no-store", .setCookie: loginCookie(login.cookieValue, maxAge: 600),
            ])
        } catch let error as ParleyError {
            return failed(error.description, context)
        } catch let error as ClientError {
            return failed(error.message, context)
        }
    }

    @Sendable func callback(_ request: Request, context: ParleyRequestContext) async throws -> Response {
        let provider = try configured()
        let query = Query(request)
        let client = authenticator.client(request, context)
        do {
            if let error = try query.string("error", maxLength: 200) {
                let detail = try query.string("error_description", maxLength: 300) ?? ""
                throw AccountError.unauthenticated("the identity provider did not sign you in: \(error) \(detail)")
            }
            guard let code = try query.string("code", maxLength: 2048), let state = try query.string("state", maxLength: 200) else {
                throw AccountError.invalid("the identity provider's answer has no code or state")
            }
            guard let login = Self.login(in: request.headers),
                  Credentials.constantTimeEqual(Array(state.utf8), Array(login.state.utf8)) else {
                throw AccountError.unauthenticated("this sign-in was not started in this browser, or took too long; try again")
            }
            let claims = try await provider.signIn(code: code, login: login, redirectURL: try redirectURL(request, provider))
            let (_, session) = try await authenticator.accounts.signInExternally(
                email: claims.email ?? "", name: claims.name ?? "", via: "single sign-on", client: client)
            var response = Response(status: .found, headers: [.location: "/", .cacheControl: "no-store"])
            response.headers.append(HTTPField(name: .setCookie, value: cookie.setting(session.token)))
            response.headers.append(HTTPField(name: .setCookie, value: loginCookie("", maxAge: 0)))
            return response
        } catch let error as AccountError {
            return failed(error.description, context)
        } catch let error as ClientError {
            return failed(error.message, context)
        } catch let error as ParleyError {
            return failed(error.description, context)
        } catch {
            context.logger.warning("single sign-on failed unexpectedly", metadata: ["error": "\(error)"])
            return failed("the sign-in could not be completed; try again", context)
        }
    }

    private func configured() throws -> OIDCProvider {
        guard let provider else { throw ClientError.notFound("single sign-on is not set up on this server (oidc_issuer)") }
        return provider
    }

    /// Back to the UI, which shows why on the sign-in form.
    private func failed(_ reason: String, _ context: ParleyRequestContext) -> Response {
        context.logger.notice("single sign-on refused", metadata: ["reason": "\(reason)"])
        let encoded = reason.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "sign-in%20failed"
        var response = Response(status: .found, headers: [.location: "/#sso-error=" + encoded, .cacheControl: "no-store"])
        response.headers.append(HTTPField(name: .setCookie, value: loginCookie("", maxAge: 0)))
        return response
    }

    /// The address the provider sends the browser back to: configured, or this server as the request names it.
    private func redirectURL(_ request: Request, _ provider: OIDCProvider) throws -> String {
        if let configured = provider.settings.redirectURL { return configured }
        guard let host = request.head.authority, !host.isEmpty,
              host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) }) else {
            throw ClientError.invalid("the request names no valid Host; set oidc_redirect_url")
        }
        return (cookie.secure ? "https" : "http") + "://" + host + Self.cookiePath + "/callback"
    }

    private func loginCookie(_ value: String, maxAge: Int) -> String {
        "\(Self.cookieName)=\(value); Path=\(Self.cookiePath); Max-Age=\(maxAge); HttpOnly; SameSite=Lax" + (cookie.secure ? "; Secure" : "")
    }

    static func login(in headers: HTTPFields) -> OIDCLoginState? {
        SessionCookie.cookie(cookieName, in: headers).flatMap(OIDCLoginState.init(cookieValue:))
    }
}
