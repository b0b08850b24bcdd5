import Foundation

/// What a new password must be: at least ``minimumLength`` characters, at most ``maximumLength`` (long enough
/// for any passphrase or manager; scrypt takes all of it, nothing is truncated), not one of the most common
/// passwords, and not the account's email.
public struct PasswordPolicy: Sendable {
    public var minimumLength: Int
    public var maximumLength: Int

    public init(minimumLength: Int = 12, maximumLength: Int = 1024) {
        self.minimumLength = max(1, minimumLength)
        self.maximumLength = max(256, maximumLength)
    }

    /// Throws ``AccountError/weakPassword(_:)`` saying what is wrong.
    public func check(_ password: String, email: String) throws {
        let length = password.count
        guard length >= minimumLength else {
            throw AccountError.weakPassword("the password must have at least \(minimumLength) characters")
        }
        guard length <= maximumLength else {
            throw AccountError.weakPassword("the password must have at most \(maximumLength) characters")
        }
        let folded = password.lowercased()
        guard !Self.common.contains(folded) else {
            throw AccountError.weakPassword("this password is one of the most common ones; choose another")
        }
        guard folded != email.lowercased() else {
            throw AccountError.weakPassword("the password must not be the email address")
        }
    }

    /// The common passwords (``PackageResources/common_passwords_txt``), lowercased.
    static let common: Set<String> = {
        let text = String(decoding: PackageResources.common_passwords_txt, as: UTF8.self)
        return Set(text.split(separator: "\n").map { $0.lowercased() })
    }()
}
