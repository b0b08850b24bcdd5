import Foundation
import Testing

/// For tests that run the real `parley` binary: the binary (built by `swift build`) and a temporary folder for
/// its databases and logs, removed by ``remove()``.
struct BinaryWorkspace {
    let binary: String
    let directory: String

    init(_ name: String) throws {
        binary = CrashRecoveryTests.binary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build the server first (swift build)")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("parley-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
