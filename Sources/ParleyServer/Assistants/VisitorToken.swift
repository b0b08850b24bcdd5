import Crypto
import Foundation
import ParleyCore

/// The random strings of published assistants and shared links: their public addresses, the tokens that let a
/// visitor back into their own chat, and shared links' tokens (tokens stored only as a digest, like session tokens).
enum VisitorToken {
    /// A new public address: 128 random bits, URL-safe (22 characters).
    static func newSlug() -> String { random(bytes: 16) }
    /// A new visitor token: 256 random bits, URL-safe (43 characters).
    static func newToken() -> String { random(bytes: 32) }

    /// True when `text` could be an address this server made.
    static func isSlug(_ text: String) -> Bool {
        text.utf8.count == 22 && text.utf8.allSatisfy { isURLSafe($0) }
    }

    /// True when `text` could be a token this server made (a visitor's, or a shared link's).
    static func isToken(_ text: String) -> Bool {
        text.utf8.count == 43 && text.utf8.allSatisfy { isURLSafe($0) }
    }

    /// What the store keeps of a token.
    static func digest(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }

    private static func random(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func isURLSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }
}
