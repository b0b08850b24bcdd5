import AsyncHTTPClient
import Foundation
import NIOCore
import ParleyAccounts
import ParleyServer
import Testing

/// Single sign-on through OpenID Connect against a provider the tests run (discovery, keys, authorization and
/// token endpoints), through the real HTTP server, following the browser's redirects by hand.
@Suite struct OIDCTests {
    /// Where a sign-in ended: the UI address Parley sent the browser to, and the session cookie it set.
    struct Outcome {
        var location: String
        var session: String?
        var error: String? {
            guard location.hasPrefix("/#sso-error=") else { return nil }
            return String(location.dropFirst("/#sso-error=".count)).removingPercentEncoding
        }
    }

    static func withProvider(signup: SignUpMode = .open, _ body: (TestParley, OIDCProviderFixture, HTTPClient) async throws -> Void) async throws {
        let fixture = try await OIDCProviderFixture.start()
        let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            try await TestParley.with(configure: {
                var settings = OIDCSettings(issuer: fixture.issuer, clientID: OIDCProviderFixture.clientID)
                settings.clientSecret = OIDCProviderFixture.clientSecret
                $0.oidc = settings
                $0.accounts.signUp = signup
            }) { parley in try await body(parley, fixture, browser) }
        } catch {
            try? await browser.shutdown()
            await fixture.stop()
            throw error
        }
        try await browser.shutdown()
        await fixture.stop()
    }

    static func get(_ browser: HTTPClient, _ url: String, cookie: String? = nil) async throws -> (status: Int, location: String, cookies: [String]) {
        var request = HTTPClientRequest(url: url)
        if let cookie { request.headers.add(name: "Cookie", value: cookie) }
        let response = try await browser.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.first(name: "Location") ?? "", response.headers["Set-Cookie"])
    }

    /// Start → provider → callback, as a browser would; `tamper` may change the callback address.
    static func signIn(_ parley: TestParley, _ browser: HTTPClient, tamper: (String) -> String = { $0 },
                       cookie override: String? = nil) async throws -> Outcome {
        let start = try await get(browser, parley.baseURL + "/api/v1/auth/oidc/start")
        try #require(start.status == 302, "start: \(start)")
        let login = try #require(start.cookies.first { $0.hasPrefix("parley_oidc=") }?.split(separator: ";").first.map(String.init))
        #expect(start.cookies.first?.contains("HttpOnly") == true)
        let atProvider = try await get(browser, start.location)
        try #require(atProvider.status == 302, "provider: \(atProvider)")
        let callback = try await get(browser, tamper(atProvider.location), cookie: override ?? login)
        #expect(callback.status == 302)
        let session = callback.cookies.first { $0.hasPrefix("parley_session=") && !$0.hasPrefix("parley_session=;") }
        return Outcome(location: callback.location, session: session?.split(separator: ";").first.map(String.init))
    }

    @Test func aSignInThroughTheProviderMakesTheAccountAndASession() async throws {
        try await Self.withProvider { parley, fixture, browser in
            let state = try await parley.request(.GET, "/api/v1/auth/session", headers: ["Authorization": ""])
            #expect(state.json["sso"] as? String == "Single sign-on", "the UI offers the button")
            fixture.next(.honest, email: "Carol@Example.com")
            let first = try await Self.signIn(parley, browser)
            #expect(first.location == "/" && first.error == nil, "\(first.location)")
            let cookie = try #require(first.session)
            let me = try await parley.request(.GET, "/api/v1/account", headers: ["Cookie": cookie, "Authorization": ""])
            #expect(me.status == 200 && me.json["email"] as? String == "carol@example.com" && me.json["name"] as? String == "Fixture User")
            let again = try await Self.signIn(parley, browser)
            let meAgain = try await parley.request(.GET, "/api/v1/account", headers: ["Cookie": again.session ?? "", "Authorization": ""])
            #expect(meAgain.json["id"] as? String == me.json["id"] as? String, "the same account the next time")
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let audit = try await parley.request(.GET, "/api/v1/admin/audit?user=\(me.json["id"] as? String ?? "")", headers: admin.headers)
            #expect(audit.body.contains("through single sign-on"))
        }
    }

    @Test func spoiltTokensAndAnswersAreRefusedWithTheReason() async throws {
        try await Self.withProvider { parley, fixture, browser in
            let cases: [(OIDCProviderFixture.Token, String)] = [
                (.forged, "signature"), (.expired, "expired"), (.wrongIssuer, "another issuer"),
                (.wrongNonce, "nonce"), (.wrongAudience, "another client"), (.unverifiedEmail, "verified email"),
            ]
            for (kind, reason) in cases {
                fixture.next(kind, email: "mallory@example.com")
                let outcome = try await Self.signIn(parley, browser)
                #expect(outcome.session == nil && outcome.error?.contains(reason) == true, "\(kind): \(outcome.location)")
            }
            fixture.next(.honest, email: "mallory@example.com")
            // An answer for another browser's sign-in (its state) is refused before the provider is asked.
            let otherState = try await Self.signIn(parley, browser, tamper: { $0.replacingOccurrences(of: "state=", with: "state=x") })
            #expect(otherState.session == nil && otherState.error?.contains("not started in this browser") == true, "\(otherState.location)")
            // Without the sign-in's cookie (its PKCE verifier and nonce): refused.
            let noCookie = try await Self.signIn(parley, browser, cookie: "parley_oidc=garbage")
            #expect(noCookie.session == nil && noCookie.error != nil)
            // The provider says no.
            let denied = try await Self.get(browser, parley.baseURL + "/api/v1/auth/oidc/callback?error=access_denied&error_description=nope")
            #expect(denied.location.hasPrefix("/#sso-error=") && denied.location.removingPercentEncoding?.contains("access_denied") == true)
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let users = try await parley.request(.GET, "/api/v1/admin/users?q=mallory", headers: admin.headers)
            #expect((users.json["data"] as? [Any])?.isEmpty == true, "no account for refused sign-ins")
        }
    }

    @Test func aProviderNamingAnotherIssuerIsNotTrusted() async throws {
        try await Self.withProvider { parley, fixture, browser in
            fixture.claimIssuer("https://impostor.example")
            let start = try await Self.get(browser, parley.baseURL + "/api/v1/auth/oidc/start")
            #expect(start.status == 302 && start.location.hasPrefix("/#sso-error=") && start.location.contains("impostor"), "\(start)")
        }
    }

    @Test func signUpModesAndDisabledAccountsApply() async throws {
        try await Self.withProvider(signup: .closed) { parley, fixture, browser in
            fixture.next(.honest, email: "dave@example.com")
            let closed = try await Self.signIn(parley, browser)
            #expect(closed.session == nil && closed.error?.contains("sign-up is closed") == true, "\(closed.location)")
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let dave = try await parley.createUser("dave@example.com", by: admin)
            #expect(try await Self.signIn(parley, browser).session != nil, "an account an administrator made")
            _ = try await parley.request(.PATCH, "/api/v1/admin/users/\(dave.userID)", body: #"{"role":"disabled"}"#, headers: admin.headers)
            let disabled = try await Self.signIn(parley, browser)
            #expect(disabled.session == nil && disabled.error?.contains("disabled") == true)
        }
    }

    /// A provider that cannot be reached: the sign-in form says so, nothing hangs or answers 500.
    @Test func anUnreachableProviderIsReportedOnTheForm() async throws {
        let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        try await TestParley.with(withUpstream: false, configure: {
            $0.oidc = OIDCSettings(issuer: "http://127.0.0.1:9", clientID: OIDCProviderFixture.clientID)
        }) { parley in
            let start = try await Self.get(browser, parley.baseURL + "/api/v1/auth/oidc/start")
            #expect(start.status == 302 && start.location.hasPrefix("/#sso-error=")
                    && start.location.removingPercentEncoding?.contains("could not be reached") == true, "\(start)")
            // A callback whose state matches, so the token endpoint is asked: unreachable too.
            let login = OIDCLoginState()
            let callback = try await Self.get(browser, parley.baseURL + "/api/v1/auth/oidc/callback?code=x&state=\(login.state)",
                                              cookie: "parley_oidc=" + login.cookieValue)
            #expect(callback.status == 302 && callback.location.removingPercentEncoding?.contains("could not be reached") == true,
                    "\(callback)")
        }
        try await browser.shutdown()
    }

    @Test func withoutAProviderTheRoutesSaySo() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let start = try await parley.request(.GET, "/api/v1/auth/oidc/start")
            #expect(start.status == 404 && start.json["error"] != nil)
            #expect(try await parley.request(.GET, "/api/v1/auth/oidc/callback?code=x&state=y").status == 404)
            #expect(try await parley.request(.GET, "/api/v1/auth/session").json["sso"] == nil)
        }
    }
}
