import Foundation
import HummingbirdOTP

/// Time-based one-time codes (RFC 6238, as authenticator apps make them: SHA-1, 6 digits, 30 s) through
/// HummingbirdOTP, and the recovery codes that stand in for a lost phone.
enum SecondFactor {
    static let secretLength = 20
    private static let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    private static let codeAlphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")

    /// 20 random letters and digits (about 119 bits); their bytes are the HMAC key the app shares.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<secretLength).map { _ in secretAlphabet.randomElement(using: &generator)! })
    }

    static func isSecret(_ text: String) -> Bool {
        text.count == secretLength && text.allSatisfy { secretAlphabet.contains($0) }
    }

    static func url(secret: String, account: String) -> String {
        TOTP(secret: secret).createAuthenticatorURL(label: "Parley:" + account, issuer: "Parley")
    }

    /// True when `code` is the app's code for now, or for the step just before or after (clocks drift).
    static func matches(_ code: String, secret: String, at date: Date = Date()) -> Bool {
        matchingStep(code, secret: secret, at: date) != nil
    }

    /// The 30-second step (counted from 1970) whose code `code` is, among now and the steps just before and
    /// after; nil when none. A step's code signs in once: the store remembers the last step used.
    static func matchingStep(_ code: String, secret: String, at date: Date = Date()) -> Int? {
        let digits = code.filter { !$0.isWhitespace }
        guard digits.count == 6, digits.allSatisfy(\.isASCII), let value = Int(digits) else { return nil }
        let totp = TOTP(secret: secret)
        let now = Int(date.timeIntervalSince1970 / 30)
        return (-1...1).first { totp.compute(date: date.addingTimeInterval(Double($0 * 30))) == value }.map { now + $0 }
    }

    /// `xxxxx-xxxxx`: ten characters that cannot be mistaken for one another.
    static func newRecoveryCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<10).map { _ in codeAlphabet.randomElement(using: &generator)! }
        return String(characters[0..<5]) + "-" + String(characters[5...])
    }

    /// A recovery code as typed, in its stored form: lowercase, without spaces or dashes.
    static func normalizedRecoveryCode(_ text: String) -> String {
        text.lowercased().filter { $0 != "-" && !$0.isWhitespace }
    }
}
