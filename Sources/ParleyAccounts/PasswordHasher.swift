import Crypto
import Foundation
import NIOPosix
import Synchronization
import _CryptoExtras

/// Hashes and checks passwords with scrypt, memory-hard, at OWASP's parameters by default (N = 2^17, r = 8,
/// p = 1: 128 MiB and a few hundred milliseconds each).
///
/// A hash is stored as a self-describing string, `$scrypt$ln=17,r=8,p=1$<salt>$<key>` (base64 without padding),
/// so the parameters can be raised later and an older hash is recognised at the next login
/// (``Verdict/valid(needsRehash:)``). Hashing runs on its own threads, at most `maxConcurrent` at once, so a
/// burst of logins queues instead of exhausting memory or starving the event loops that stream answers; memory
/// stays under `maxConcurrent` × the parameters' memory.
public final class PasswordHasher: Sendable {
    /// scrypt's cost: N = 2^`logN` rounds, block size `r`, parallelism `p`.
    public struct Parameters: Sendable, Equatable, CustomStringConvertible {
        public var logN: Int
        public var r: Int
        public var p: Int

        public init(logN: Int, r: Int, p: Int) {
            self.logN = logN
            self.r = r
            self.p = p
        }

        /// OWASP's password storage cheat sheet: N = 2^17, r = 8, p = 1.
        public static let owasp = Parameters(logN: 17, r: 8, p: 1)

        /// Bytes one hash holds in memory: 128 × r × N.
        public var memoryBytes: Int { 128 * r * (1 << logN) }

        public var description: String { "ln=\(logN),r=\(r),p=\(p)" }

        /// The accepted range: not weaker than 2^14 rounds, not beyond 1 GiB of memory.
        public var isAcceptable: Bool { (14...20).contains(logN) && (1...32).contains(r) && (1...16).contains(p) && memoryBytes <= 1 << 30 }
    }

    /// What checking a password found.
    public enum Verdict: Sendable, Equatable {
        /// The password is right; `needsRehash` when its hash uses other parameters than the current ones.
        case valid(needsRehash: Bool)
        case invalid
    }

    public let parameters: Parameters
    private let threads: NIOThreadPool
    /// Derivations running now, and the most that ever ran at once.
    private let load = Mutex((running: 0, peak: 0))

    /// The most hashes that ran at once so far: never above `maxConcurrent`, so memory stays bounded.
    public var peakConcurrentHashes: Int { load.withLock { $0.peak } }

    static let saltBytes = 16
    static let keyBytes = 32

    public init(parameters: Parameters = .owasp, maxConcurrent: Int = 2) {
        precondition(parameters.isAcceptable, "scrypt parameters out of range: \(parameters)")
        self.parameters = parameters
        self.threads = NIOThreadPool(numberOfThreads: max(1, maxConcurrent))
        threads.start()
    }

    deinit {
        threads.shutdownGracefully { _ in }
    }

    /// A new hash of `password` with a fresh random salt.
    public func hash(_ password: String) async throws -> String {
        let salt = (0..<Self.saltBytes).map { _ in UInt8.random(in: .min ... .max) }
        let parameters = self.parameters
        let key = try await derive(password, salt: salt, parameters: parameters)
        return Self.encode(parameters: parameters, salt: salt, key: key)
    }

    /// Whether `password` matches `stored`. A stored string that is not one of these hashes is `invalid`.
    public func verify(_ password: String, against stored: String) async throws -> Verdict {
        guard let (parameters, salt, expected) = Self.decode(stored) else { return .invalid }
        let key = try await derive(password, salt: salt, parameters: parameters)
        guard Credentials.constantTimeEqual(key, expected) else { return .invalid }
        return .valid(needsRehash: parameters != self.parameters)
    }

    /// Runs one derivation on the hasher's threads.
    private func derive(_ password: String, salt: [UInt8], parameters: Parameters) async throws -> [UInt8] {
        try await threads.runIfActive { [self] in
            load.withLock { state in
                state.running += 1
                state.peak = max(state.peak, state.running)
            }
            defer { load.withLock { $0.running -= 1 } }
            return try Self.derive(password, salt: salt, parameters: parameters)
        }
    }

    static func derive(_ password: String, salt: [UInt8], parameters: Parameters) throws -> [UInt8] {
        // The whole password, however long: no truncation (bcrypt's 72 bytes).
        let key = try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: keyBytes,
                                           rounds: 1 << parameters.logN, blockSize: parameters.r,
                                           parallelism: parameters.p)
        return key.withUnsafeBytes { Array($0) }
    }

    static func encode(parameters: Parameters, salt: [UInt8], key: [UInt8]) -> String {
        "$scrypt$\(parameters)$\(base64(salt))$\(base64(key))"
    }

    /// The parts of a stored hash; nil for anything else (a hash from another scheme, a damaged value).
    static func decode(_ stored: String) -> (Parameters, [UInt8], [UInt8])? {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { return nil }
        var values: [String: Int] = [:]
        for field in parts[2].split(separator: ",") {
            let pair = field.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let value = Int(pair[1]) else { return nil }
            values[String(pair[0])] = value
        }
        guard let logN = values["ln"], let r = values["r"], let p = values["p"] else { return nil }
        let parameters = Parameters(logN: logN, r: r, p: p)
        guard parameters.isAcceptable, let salt = unbase64(parts[3]), let key = unbase64(parts[4]),
              salt.count >= 16, key.count == keyBytes else { return nil }
        return (parameters, salt, key)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func unbase64(_ text: Substring) -> [UInt8]? {
        var padded = String(text)
        while padded.count % 4 != 0 { padded += "=" }
        return Data(base64Encoded: padded).map(Array.init)
    }

}
