import Foundation
import ParleyServer
import ParleyStore
import HummingbirdOTP
import Testing

/// Accounts through the real HTTP server: first run, sign-in, cookies, CSRF, keys and their scopes, password
/// changes, roles, and the sign-in throttle.
@Suite struct AccountsTests {
    @Test func aFreshServerOffersTheFirstRunAndOnlyOnce() async throws {
        try await TestParley.with(withUpstream: false, signedIn: false) { parley in
            let state = try await parley.request(.GET, "/api/v1/auth/session")
            #expect(state.status == 200)
            #expect(state.json["setup_required"] as? Bool == true && state.json["signup"] as? String == "closed")
            #expect(try await parley.request(.GET, "/api/v1/conversations").status == 401, "no data before an account exists")

            let weak = try await parley.request(.POST, "/api/v1/auth/setup", body: #"{"email":"a@example.com","password":"password1234"}"#)
            #expect(weak.status == 400 && weak.json.error("code") == "weak_password", "\(weak.body)")
            let short = try await parley.request(.POST, "/api/v1/auth/setup", body: #"{"email":"a@example.com","password":"x7#k"}"#)
            #expect(short.status == 400)
            let notEmail = try await parley.request(.POST, "/api/v1/auth/setup", body: #"{"email":"nobody","password":"a long enough secret"}"#)
            #expect(notEmail.status == 400)

            let setup = try await parley.request(.POST, "/api/v1/auth/setup",
                                                 body: #"{"email":" Admin@Example.com ","password":"\#(TestUsers.password)","name":"Ada"}"#)
            #expect(setup.status == 201, "\(setup.body)")
            let cookie = try #require(setup.headers["set-cookie"])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"))
            #expect(!cookie.contains("Secure"), "plain HTTP unless secure_cookies is set")
            let user = try #require(setup.json["user"] as? [String: any Sendable])
            #expect(user["email"] as? String == "admin@example.com" && user["role"] as? String == "admin")
            #expect(!setup.body.contains("scrypt") && !setup.body.contains("password"), "no hash or password in answers")

            let again = try await parley.request(.POST, "/api/v1/auth/setup",
                                                 body: #"{"email":"b@example.com","password":"\#(TestUsers.password)"}"#)
            #expect(again.status == 409 && again.json.error("code") == "already_set_up")

            let session = try TestParley.session(from: setup)
            let me = try await parley.request(.GET, "/api/v1/auth/session", headers: session.cookie)
            #expect(me.json["setup_required"] as? Bool == false && me.json["csrf_token"] as? String == session.csrf)
        }
    }

    /// Behind TLS (`secure_cookies`): the cookie is `Secure` and every response asks for HTTPS only.
    @Test func secureCookiesMarkTheCookieAndSendHSTS() async throws {
        try await TestParley.with(withUpstream: false, configure: { $0.secureCookies = true }) { parley in
            let login = try await parley.request(.POST, "/api/v1/auth/login",
                                                 body: #"{"email":"admin@example.com","password":"\#(TestUsers.password)"}"#)
            #expect(login.headers["set-cookie"]?.contains("; Secure") == true, "\(login.headers)")
            #expect(login.headers["strict-transport-security"] == "max-age=31536000")
            #expect(try await parley.request(.GET, "/health/live").headers["strict-transport-security"] != nil)
        }
        try await TestParley.with(withUpstream: false) { parley in
            let plain = try await parley.request(.GET, "/health/live")
            #expect(plain.headers["strict-transport-security"] == nil, "plain HTTP gets no HSTS")
        }
    }

    @Test func wrongPasswordsAndUnknownEmailsGetTheSameAnswer() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let wrong = try await parley.request(.POST, "/api/v1/auth/login",
                                                 body: #"{"email":"admin@example.com","password":"not the password at all"}"#)
            let unknown = try await parley.request(.POST, "/api/v1/auth/login",
                                                   body: #"{"email":"ghost@example.com","password":"not the password at all"}"#)
            #expect(wrong.status == 401 && unknown.status == 401)
            #expect(wrong.body == unknown.body)
            #expect(wrong.headers["set-cookie"] == nil)
            let session = try await parley.signIn(email: "ADMIN@example.com")
            #expect(session.token != "" && session.csrf != "")
        }
    }

    @Test func cookieRequestsThatChangeStateNeedTheCSRFToken() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let session = try await parley.signIn(email: TestUsers.adminEmail)
            let bare = try await parley.request(.POST, "/api/v1/conversations", body: "{}", headers: session.cookie)
            #expect(bare.status == 403 && bare.errorType == "csrf_failed")
            let wrong = try await parley.request(.POST, "/api/v1/conversations", body: "{}",
                                                 headers: session.cookie.merging(["X-CSRF-Token": "nope"]) { $1 })
            #expect(wrong.status == 403)
            let crossSite = try await parley.request(.POST, "/api/v1/conversations", body: "{}",
                                                     headers: session.headers.merging(["Origin": "https://evil.example",
                                                                                       "Sec-Fetch-Site": "cross-site"]) { $1 })
            #expect(crossSite.status == 403, "a foreign origin is refused even with the token")
            let form = try await parley.request(.POST, "/api/v1/conversations", body: "title=x",
                                                headers: session.cookie.merging(["Origin": "https://evil.example",
                                                                                 "Content-Type": "application/x-www-form-urlencoded"]) { $1 })
            #expect(form.status == 403, "a cross-site form post is refused")
            let reads = try await parley.request(.GET, "/api/v1/conversations", headers: session.cookie)
            #expect(reads.status == 200, "reads need no token")
            let own = try await parley.request(.POST, "/api/v1/conversations", body: "{}", headers: session.headers)
            #expect(own.status == 201, "the UI's own request passes: \(own.body)")
        }
    }

    @Test func keysAreShownOnceAndHoldToTheirScopes() async throws {
        try await TestParley.with { parley in
            let session = try await parley.signIn(email: TestUsers.adminEmail)
            let chatOnly = try await parley.newKey(session, scopes: ["chat"], name: "chat only")
            let gatewayOnly = try await parley.newKey(session, scopes: ["gateway"], name: "gateway only")
            #expect(chatOnly.hasPrefix("pk-") && chatOnly.count == 46)

            let list = try await parley.request(.GET, "/api/v1/account/keys", headers: session.cookie)
            #expect(list.status == 200)
            #expect(!list.body.contains(chatOnly) && !list.body.contains(gatewayOnly), "the key is shown only when made")
            #expect(list.body.contains(String(chatOnly.prefix(12))), "its prefix is listed")

            let completion = #"{"model":"mock-1","messages":[{"role":"user","content":"hi"}]}"#
            #expect(try await parley.request(.GET, "/api/v1/conversations", headers: ["Authorization": "Bearer " + chatOnly]).status == 200)
            // The scheme in any case, spaces before the key: the same key.
            #expect(try await parley.request(.GET, "/api/v1/conversations", headers: ["Authorization": "bEaReR \t  " + chatOnly]).status == 200)
            for wrong in ["Basic " + chatOnly, "Bearer", "Bearerx" + chatOnly, "Bearer " + chatOnly.dropLast()] {
                #expect(try await parley.request(.GET, "/api/v1/conversations", headers: ["Authorization": wrong]).status == 401, "\(wrong)")
            }
            #expect(try await parley.request(.POST, "/v1/chat/completions", body: completion,
                                             headers: ["Authorization": "Bearer " + chatOnly]).status == 403)
            #expect(try await parley.request(.GET, "/api/v1/conversations", headers: ["Authorization": "Bearer " + gatewayOnly]).status == 403)
            let viaGateway = try await parley.request(.POST, "/v1/chat/completions", body: completion,
                                                      headers: ["Authorization": "Bearer " + gatewayOnly])
            #expect(viaGateway.status == 200, "\(viaGateway.body)")

            let minted = try await parley.request(.POST, "/api/v1/account/keys", body: #"{"name":"more"}"#,
                                                  headers: ["Authorization": "Bearer " + chatOnly])
            #expect(minted.status == 403, "a key cannot make keys")

            let keys = try #require(list.json["data"] as? [[String: any Sendable]])
            let chatID = try #require(keys.first { $0["name"] as? String == "chat only" }?["id"] as? String)
            #expect(try await parley.request(.DELETE, "/api/v1/account/keys/\(chatID)", headers: session.headers).status == 204)
            let revoked = try await parley.request(.GET, "/api/v1/conversations", headers: ["Authorization": "Bearer " + chatOnly])
            #expect(revoked.status == 401)
            #expect(try await parley.request(.DELETE, "/api/v1/account/keys/\(chatID)", headers: session.headers).status == 404)

            let bad = try await parley.request(.POST, "/api/v1/account/keys", body: #"{"name":"x","scopes":["root"]}"#, headers: session.headers)
            #expect(bad.status == 400)
            let badExpiry = try await parley.request(.POST, "/api/v1/account/keys", body: #"{"name":"x","expires_in_days":0}"#,
                                                     headers: session.headers)
            #expect(badExpiry.status == 400)
        }
    }

    @Test func changingThePasswordEndsEverySession() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let first = try await parley.signIn(email: TestUsers.adminEmail)
            let second = try await parley.signIn(email: TestUsers.adminEmail)
            let sessions = try await parley.request(.GET, "/api/v1/account/sessions", headers: first.cookie)
            let listed = try #require(sessions.json["data"] as? [[String: any Sendable]])
            #expect(listed.count == 3 && listed.filter { $0["current"] as? Bool == true }.count == 1)
            #expect(!sessions.body.contains(first.token) && !sessions.body.contains(second.token))

            let wrong = try await parley.request(.POST, "/api/v1/account/password",
                                                 body: #"{"current_password":"guess guess guess","new_password":"a brand new passphrase"}"#,
                                                 headers: first.headers)
            #expect(wrong.status == 403)
            let changed = try await parley.request(.POST, "/api/v1/account/password",
                                                   body: #"{"current_password":"\#(TestUsers.password)","new_password":"a brand new passphrase"}"#,
                                                   headers: first.headers)
            #expect(changed.status == 200, "\(changed.body)")
            let renewed = try TestParley.session(from: changed)
            #expect(try await parley.request(.GET, "/api/v1/conversations", headers: first.cookie).status == 401)
            #expect(try await parley.request(.GET, "/api/v1/conversations", headers: second.cookie).status == 401)
            #expect(try await parley.request(.GET, "/api/v1/conversations", headers: renewed.cookie).status == 200)
            _ = try await parley.signIn(email: TestUsers.adminEmail, password: "a brand new passphrase")
        }
    }

    @Test func disablingAUserEndsTheirSessionsAndKeysAtOnce() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            let bobKey = try await parley.newKey(bob)
            #expect(try await parley.request(.GET, "/api/v1/conversations", headers: ["Authorization": "Bearer " + bobKey]).status == 200)
            #expect(try await parley.request(.GET, "/api/v1/admin/users", headers: bob.cookie).status == 403, "users are not admins")

            let disable = try await parley.request(.PATCH, "/api/v1/admin/users/\(bob.userID)", body: #"{"role":"disabled"}"#,
                                                   headers: admin.headers)
            #expect(disable.status == 200 && disable.json["role"] as? String == "disabled", "\(disable.body)")
            #expect(try await parley.request(.GET, "/api/v1/conversations", headers: bob.cookie).status == 401)
            let keyAfter = try await parley.request(.GET, "/api/v1/conversations", headers: ["Authorization": "Bearer " + bobKey])
            #expect(keyAfter.status == 403 && keyAfter.json.error("code") == "account_disabled")
            let login = try await parley.request(.POST, "/api/v1/auth/login",
                                                 body: #"{"email":"bob@example.com","password":"\#(TestUsers.password)"}"#)
            #expect(login.status == 403)

            let selfDemote = try await parley.request(.PATCH, "/api/v1/admin/users/\(admin.userID)", body: #"{"role":"user"}"#,
                                                      headers: admin.headers)
            #expect(selfDemote.status == 403)
            #expect(try await parley.request(.DELETE, "/api/v1/admin/users/\(bob.userID)", headers: admin.headers).status == 204)
            #expect(try await parley.request(.DELETE, "/api/v1/admin/users/\(bob.userID)", headers: admin.headers).status == 404)
        }
    }

    @Test func signUpFollowsTheConfiguredMode() async throws {
        try await TestParley.with(withUpstream: false, configure: { $0.accounts.signUp = .approval }) { parley in
            let body = #"{"email":"carol@example.com","password":"\#(TestUsers.password)"}"#
            let pending = try await parley.request(.POST, "/api/v1/auth/signup", body: body)
            #expect(pending.status == 202 && pending.headers["set-cookie"] == nil, "\(pending.body)")
            let early = try await parley.request(.POST, "/api/v1/auth/login", body: body)
            #expect(early.status == 403 && early.json.error("code") == "pending_approval")
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let id = try #require((pending.json["user"] as? [String: any Sendable])?["id"] as? String)
            #expect(try await parley.request(.PATCH, "/api/v1/admin/users/\(id)", body: #"{"role":"user"}"#, headers: admin.headers).status == 200)
            #expect(try await parley.request(.POST, "/api/v1/auth/login", body: body).status == 200)
            #expect(try await parley.request(.POST, "/api/v1/auth/signup", body: body).status == 409)
        }
        try await TestParley.with(withUpstream: false) { parley in
            let closed = try await parley.request(.POST, "/api/v1/auth/signup",
                                                  body: #"{"email":"dave@example.com","password":"\#(TestUsers.password)"}"#)
            #expect(closed.status == 403 && closed.json.error("code") == "signup_closed")
        }
    }

    /// Raising `password_hash_cost` upgrades each stored hash at its owner's next sign-in, as the README says.
    @Test func aHigherHashCostUpgradesTheHashAtTheNextSignIn() async throws {
        try await TestParley.with(withUpstream: false) { first in
            let database = "sqlite://\(first.directory)/parley.db"
            let store = try SQLiteConversationStore(path: first.directory + "/parley.db")
            #expect(try await store.user(email: TestUsers.adminEmail)?.passwordHash?.hasPrefix("$scrypt$ln=14,") == true)
            try await TestParley.with(withUpstream: false, configure: {
                $0.databaseURL = database
                $0.passwordHash = .init(logN: 15, r: 8, p: 1)
            }) { raised in
                _ = try await raised.signIn(email: TestUsers.adminEmail)
                #expect(try await store.user(email: TestUsers.adminEmail)?.passwordHash?.hasPrefix("$scrypt$ln=15,") == true)
                _ = try await first.signIn(email: TestUsers.adminEmail)  // the older hash's server still verifies it
            }
        }
    }

    @Test func aResetLinkSetsANewPasswordOnce() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            let issued = try await parley.request(.POST, "/api/v1/admin/users/\(bob.userID)/password-reset", headers: admin.headers)
            let path = try #require(issued.json["reset_path"] as? String, "\(issued.body)")
            let token = String(path.dropFirst("/#reset=".count))
            let weak = try await parley.request(.POST, "/api/v1/auth/reset", body: #"{"token":"\#(token)","password":"password1234"}"#)
            #expect(weak.status == 400, "a refused password leaves the link usable")
            let reset = try await parley.request(.POST, "/api/v1/auth/reset", body: #"{"token":"\#(token)","password":"a fresh passphrase"}"#)
            #expect(reset.status == 200 && reset.headers["set-cookie"] != nil, "\(reset.body)")
            #expect(try await parley.request(.GET, "/api/v1/account", headers: bob.cookie).status == 401, "older sessions end")
            let again = try await parley.request(.POST, "/api/v1/auth/reset", body: #"{"token":"\#(token)","password":"yet another passphrase"}"#)
            #expect(again.status == 400, "once only")
            _ = try await parley.signIn(email: "bob@example.com", password: "a fresh passphrase")
            #expect(try await parley.request(.POST, "/api/v1/admin/users/\(UUID().uuidString)/password-reset", headers: admin.headers).status == 404)
        }
    }

    @Test func securityEventsAreRecordedWithoutSecrets() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let admin = try await parley.signIn(email: TestUsers.adminEmail)
            let bob = try await parley.createUser("bob@example.com", by: admin)
            let key = try await parley.newKey(bob, name: "bob's laptop")
            _ = try await parley.request(.POST, "/api/v1/auth/login", body: #"{"email":"bob@example.com","password":"a wrong guess here"}"#)
            _ = try await parley.request(.PATCH, "/api/v1/admin/users/\(bob.userID)", body: #"{"role":"disabled"}"#, headers: admin.headers)
            let log = try await parley.request(.GET, "/api/v1/admin/audit?user=\(bob.userID)", headers: admin.cookie)
            #expect(log.status == 200)
            let events = try #require(log.json["data"] as? [[String: any Sendable]])
            let kinds = events.compactMap { $0["kind"] as? String }
            #expect(kinds == ["role_changed", "login_failed", "key_created", "login", "user_created"], "\(kinds)")
            #expect(events.first?["actor_id"] as? String == admin.userID && events.first?["detail"] as? String == "user → disabled")
            #expect(!log.body.contains(key) && !log.body.contains("a wrong guess") && !log.body.contains(TestUsers.password),
                    "no secret is recorded")
            let all = try await parley.request(.GET, "/api/v1/admin/audit?limit=2", headers: admin.cookie)
            let page = try #require(all.json["data"] as? [[String: any Sendable]])
            let last = try #require(page.last?["at"] as? String)
            let next = try await parley.request(.GET, "/api/v1/admin/audit?limit=200&before=\(last)", headers: admin.cookie)
            #expect((next.json["data"] as? [Any])?.isEmpty == false, "pages back")
            #expect(try await parley.request(.GET, "/api/v1/admin/audit?before=yesterday", headers: admin.cookie).status == 400)
            #expect(try await parley.request(.GET, "/api/v1/admin/audit?user=nobody", headers: admin.cookie).status == 400)
        }
    }

    /// Many wrong passwords from many addresses: the attacker is held to the configured rate, and the owner,
    /// from an address with no failures, still gets in.
    @Test func guessingIsLimitedWithoutLockingTheOwnerOut() async throws {
        try await TestParley.with(withUpstream: false, configure: { $0.loginFailuresPerWindow = 5 }) { parley in
            func login(_ password: String, from address: String) async throws -> RawHTTP.Exchange {
                let body = #"{"email":"admin@example.com","password":"\#(password)"}"#
                return try await RawHTTP.exchange(port: parley.port, bytes: Array(HardeningTests.request(
                    "POST", "/api/v1/auth/login", port: parley.port,
                    headers: ["Content-Type": "application/json", "Connection": "close"], body: body).utf8),
                    wait: .seconds(60), from: address)
            }
            // 1,000 wrong passwords from 40 addresses, 8 at a time.
            let addresses = 40
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for lane in 0..<8 {
                    group.addTask {
                        var seen: [Int] = []
                        for attempt in stride(from: lane, to: 1000, by: 8) {
                            seen.append(try await login("wrong guess number \(attempt)", from: "127.0.1.\(attempt % addresses + 1)").status)
                        }
                        return seen
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            // Checked guesses: the account's budget, plus at most one from each address that had no failure yet.
            let checked = statuses.filter { $0 == 401 }.count
            #expect(checked <= 5 + addresses, "\(checked) passwords were checked")
            #expect(statuses.filter { $0 == 429 }.count >= 1000 - 5 - addresses)
            #expect(Set(statuses).isSubset(of: [401, 429]), "\(Set(statuses))")
            let limited = try await login("one more wrong guess", from: "127.0.1.1")
            #expect(limited.status == 429 && limited.header("Retry-After") != nil)
            let owner = try await login(TestUsers.password, from: "127.0.2.1")
            #expect(owner.status == 200, "the owner still gets in: \(owner)")
        }
    }
}

extension Dictionary where Key == String, Value == any Sendable {
    /// A field of the `error` object.
    func error(_ field: String) -> String? { (self["error"] as? [String: any Sendable])?[field] as? String }
}

/// Sign-in by a trusted proxy (oauth2-proxy, Authelia): its header counts only from its addresses.
@Suite struct TrustedProxyTests {
    static func session(_ parley: TestParley, email: String, from source: String, forwardedFor: String? = nil,
                        cookie: String? = nil) async throws -> RawHTTP.Exchange {
        var headers = ["X-Forwarded-Email": email, "Connection": "close"]
        if let forwardedFor { headers["X-Forwarded-For"] = forwardedFor }
        if let cookie { headers["Cookie"] = cookie }
        return try await RawHTTP.exchange(port: parley.port, bytes: Array(HardeningTests.request(
            "GET", "/api/v1/auth/session", port: parley.port, headers: headers).utf8), from: source)
    }

    @Test func theProxysHeaderSignsInOnlyFromTheProxy() async throws {
        try await TestParley.with(withUpstream: false, configure: {
            $0.trustedProxies = TrustedProxies(ranges: [AddressRange("127.0.3.0/24")!], header: "X-Forwarded-Email")
            $0.accounts.signUp = .open
        }) { parley in
            // From elsewhere the header means nothing.
            let spoofed = try await Self.session(parley, email: TestUsers.adminEmail, from: "127.0.4.1")
            #expect(spoofed.status == 200 && spoofed.header("Set-Cookie") == nil && !spoofed.body.contains("csrf_token\":\""),
                    "\(spoofed)")
            // Through the proxy: the admin gets a session without a password; a new email gets an account (open).
            let proxied = try await Self.session(parley, email: TestUsers.adminEmail, from: "127.0.3.7", forwardedFor: "203.0.113.9")
            #expect(proxied.status == 200 && proxied.body.contains(#""role":"admin""#), "\(proxied)")
            let cookie = try #require(proxied.header("Set-Cookie")?.split(separator: ";").first.map(String.init))
            let sessions = try await parley.request(.GET, "/api/v1/account/sessions", headers: ["Cookie": cookie])
            #expect(sessions.body.contains("203.0.113.9"), "the client the proxy named is recorded: \(sessions.body)")
            let newcomer = try await Self.session(parley, email: "erin@example.com", from: "127.0.3.7")
            #expect(newcomer.status == 200 && newcomer.body.contains(#""email":"erin@example.com""#) && newcomer.body.contains(#""role":"user""#))
            // The proxy now says someone else: the old session is no longer accepted with that header.
            let switched = try await RawHTTP.exchange(port: parley.port, bytes: Array(HardeningTests.request(
                "GET", "/api/v1/conversations", port: parley.port,
                headers: ["Cookie": cookie, "X-Forwarded-Email": "erin@example.com", "Connection": "close"]).utf8), from: "127.0.3.7")
            #expect(switched.status == 401, "\(switched)")
        }
    }

    @Test func addressRangesAndForwardedClients() {
        let proxies = TrustedProxies(ranges: ["10.0.0.0/8", "::1", "fd00::/8"].compactMap(AddressRange.init))
        #expect(proxies.trusts("10.9.8.7") && proxies.trusts("::1") && proxies.trusts("fd12::1") && proxies.trusts("::ffff:10.1.1.1"))
        #expect(!proxies.trusts("11.0.0.1") && !proxies.trusts("::2") && !proxies.trusts("nonsense") && !proxies.trusts(nil))
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwardedFor: "198.51.100.1, 10.0.0.2") == "198.51.100.1")
        #expect(proxies.clientAddress(peer: "192.0.2.1", forwardedFor: "198.51.100.1") == "192.0.2.1", "untrusted peers are the client")
        #expect(proxies.clientAddress(peer: "10.0.0.1", forwardedFor: "not an address") == "10.0.0.1")
        for bad in ["10.0.0.0/33", "300.1.1.1", "", "fd00::/129", "example.com"] { #expect(AddressRange(bad) == nil, "\(bad)") }
        #expect(AddressRange("10.1.2.3/8")?.description == "10.1.2.3/8")
    }
}

/// The optional second factor: an authenticator app's codes (computed here with HummingbirdOTP, as the app
/// would) and recovery codes.
@Suite struct SecondFactorTests {
    @Test func signingInTakesTheAppsCodeOnceItIsOn() async throws {
        try await TestParley.with(withUpstream: false) { parley in
            let session = try await parley.signIn(email: TestUsers.adminEmail)
            let started = try await parley.request(.POST, "/api/v1/account/totp", headers: session.headers)
            let secret = try #require(started.json["secret"] as? String)
            let url = try #require(started.json["otpauth_url"] as? String)
            #expect(url.hasPrefix("otpauth://totp/Parley") && url.contains("admin") && url.contains("?secret=")
                        && url.contains("issuer=Parley"), "\(url)")
            let wrong = try await parley.request(.POST, "/api/v1/account/totp/enable", body: #"{"secret":"\#(secret)","code":"000000"}"#,
                                                 headers: session.headers)
            #expect(wrong.status == 400 || TOTP(secret: secret).compute() == 0, "\(wrong.body)")
            let code = String(format: "%06d", TOTP(secret: secret).compute())
            let enabled = try await parley.request(.POST, "/api/v1/account/totp/enable", body: #"{"secret":"\#(secret)","code":"\#(code)"}"#,
                                                   headers: session.headers)
            let recovery = try #require(enabled.json["recovery_codes"] as? [String], "\(enabled.body)")
            #expect(recovery.count == 10 && Set(recovery).count == 10)

            let login = #"{"email":"admin@example.com","password":"\#(TestUsers.password)""#
            let needs = try await parley.request(.POST, "/api/v1/auth/login", body: login + "}")
            #expect(needs.status == 401 && needs.json.error("code") == "totp_required" && needs.headers["set-cookie"] == nil)
            let bad = try await parley.request(.POST, "/api/v1/auth/login", body: login + #","code":"12345x"}"#)
            #expect(bad.status == 401 && bad.json.error("code") == "invalid_code")
            let now = String(format: "%06d", TOTP(secret: secret).compute())
            #expect(try await parley.request(.POST, "/api/v1/auth/login", body: login + #","code":"\#(now)"}"#).status == 200)
            // A code signs in once: someone who saw it cannot use it again, even within its 30 seconds.
            let replayed = try await parley.request(.POST, "/api/v1/auth/login", body: login + #","code":"\#(now)"}"#)
            #expect(replayed.status == 401 && replayed.json.error("code") == "invalid_code", "\(replayed.body)")
            let previous = String(format: "%06d", TOTP(secret: secret).compute(date: Date().addingTimeInterval(-30)))
            #expect(try await parley.request(.POST, "/api/v1/auth/login", body: login + #","code":"\#(previous)"}"#).status == 401,
                    "nor an older one")
            // A recovery code works once.
            let withRecovery = login + #","code":"\#(recovery[0].uppercased())"}"#
            #expect(try await parley.request(.POST, "/api/v1/auth/login", body: withRecovery).status == 200)
            #expect(try await parley.request(.POST, "/api/v1/auth/login", body: withRecovery).status == 401)
            let me = try await parley.request(.GET, "/api/v1/account", headers: session.cookie)
            #expect(me.json["two_factor"] as? Bool == true && !me.body.contains(secret), "the secret is never shown again")

            let refused = try await parley.request(.POST, "/api/v1/account/totp/disable", body: #"{"password":"not it at all"}"#,
                                                   headers: session.headers)
            #expect(refused.status == 403)
            #expect(try await parley.request(.POST, "/api/v1/account/totp/disable", body: #"{"password":"\#(TestUsers.password)"}"#,
                                             headers: session.headers).status == 204)
            #expect(try await parley.request(.POST, "/api/v1/auth/login", body: login + "}").status == 200)
        }
    }
}
