import Foundation
import Testing
@testable import ParleyAccounts

/// scrypt hashing at the cheapest accepted cost (2^14 rounds) except where OWASP's own parameters are the point.
@Suite struct PasswordHasherTests {
    static let cheap = PasswordHasher.Parameters(logN: 14, r: 8, p: 1)

    @Test func aHashVerifiesItsPasswordAndNoOther() async throws {
        let hasher = PasswordHasher(parameters: Self.cheap)
        let stored = try await hasher.hash("correct horse battery staple")
        #expect(stored.hasPrefix("$scrypt$ln=14,r=8,p=1$"))
        #expect(try await hasher.verify("correct horse battery staple", against: stored) == .valid(needsRehash: false))
        #expect(try await hasher.verify("correct horse battery stapler", against: stored) == .invalid)
        #expect(try await hasher.verify("", against: stored) == .invalid)
    }

    @Test func theSamePasswordHashesDifferentlyEachTime() async throws {
        let hasher = PasswordHasher(parameters: Self.cheap)
        let first = try await hasher.hash("same password")
        let second = try await hasher.hash("same password")
        #expect(first != second, "a fresh salt each time")
    }

    @Test func longPasswordsCountToTheirLastByte() async throws {
        // bcrypt would see only the first 72 bytes: these two differ after byte 200.
        let hasher = PasswordHasher(parameters: Self.cheap)
        let base = String(repeating: "é", count: 100)
        let stored = try await hasher.hash(base + "a")
        #expect(try await hasher.verify(base + "b", against: stored) == .invalid)
        #expect(try await hasher.verify(base + "a", against: stored) == .valid(needsRehash: false))
    }

    @Test func aHashWithOlderParametersStillVerifiesAndAsksForARehash() async throws {
        let old = PasswordHasher(parameters: Self.cheap)
        let stored = try await old.hash("pass phrase")
        let current = PasswordHasher(parameters: PasswordHasher.Parameters(logN: 15, r: 8, p: 1))
        #expect(try await current.verify("pass phrase", against: stored) == .valid(needsRehash: true))
    }

    @Test(arguments: ["", "plain", "$2b$12$abcdefghijklmnopqrstuv", "$scrypt$ln=14,r=8,p=1$short$key",
                      "$scrypt$ln=40,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                      "$scrypt$ln=3,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                      "$scrypt$r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
    func storedValuesThatAreNotHashesNeverVerify(stored: String) async throws {
        // Out-of-range costs are refused before any work (a planted ln=40 would take 2^40 rounds).
        let hasher = PasswordHasher(parameters: Self.cheap)
        #expect(try await hasher.verify("anything", against: stored) == .invalid)
    }

    @Test func owaspParametersAreTheDefaultAndTheirMemoryIsKnown() {
        #expect(PasswordHasher.Parameters.owasp == .init(logN: 17, r: 8, p: 1))
        #expect(PasswordHasher.Parameters.owasp.memoryBytes == 128 << 20)
    }

    @Test func aBurstOfHashesRunsAtMostMaxConcurrentAtOnce() async throws {
        // Eight hashes asked for at once on a hasher allowed two: they queue, and all of them verify.
        let hasher = PasswordHasher(parameters: Self.cheap, maxConcurrent: 2)
        let hashes = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for index in 0..<8 { group.addTask { (index, try await hasher.hash("password \(index)")) } }
            var all: [Int: String] = [:]
            for try await (index, stored) in group { all[index] = stored }
            return all
        }
        #expect(hashes.count == 8)
        #expect((1...2).contains(hasher.peakConcurrentHashes), "at most two derivations (2 × 16 MiB here) at any moment")
        for (index, stored) in hashes {
            #expect(try await hasher.verify("password \(index)", against: stored) == .valid(needsRehash: false))
        }
    }
}
