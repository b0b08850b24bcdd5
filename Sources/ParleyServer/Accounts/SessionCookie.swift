import HTTPTypes
import Hummingbird

/// The session cookie: `parley_session`, `HttpOnly` (no script reads it), `SameSite=Lax` (not sent on
/// cross-site posts), `Path=/`, and `Secure` when users come over HTTPS.
struct SessionCookie: Sendable {
    static let name = "parley_session"
    let secure: Bool
    /// How long the browser keeps it: the session's absolute lifetime.
    let maxAge: Duration

    func setting(_ token: String) -> String {
        "\(Self.name)=\(token); Path=/; Max-Age=\(maxAge.components.seconds); HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    /// Tells the browser to forget the cookie.
    var clearing: String {
        "\(Self.name)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    /// The token in the request's `Cookie` headers, if any (the first `parley_session`).
    static func token(in headers: HTTPFields) -> String? {
        guard let value = cookie(name, in: headers) else { return nil }
        return value.isEmpty || value.count > 128 ? nil : value
    }

    /// The value of the first cookie called `name` in the request's `Cookie` headers.
    static func cookie(_ name: String, in headers: HTTPFields) -> String? {
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard trimmed.hasPrefix(name + "=") else { continue }
                return String(trimmed.dropFirst(name.count + 1))
            }
        }
        return nil
    }
}
