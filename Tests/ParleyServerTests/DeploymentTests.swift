import Foundation
import ParleyTestSupport
import Testing

/// The container files (`deploy/check.py` without a Docker engine) and `parley health`, the image's health check,
/// run as the image runs it.
@Suite struct DeploymentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    @Test func theDeploymentFilesHangTogether() async throws {
        guard await Shell.pythonHas("yaml") else {
            if OpenAISDKTests.required { Issue.record("PyYAML is missing: pip install pyyaml") }
            return
        }
        let outcome = try await Shell.run(["python3", Self.root + "/deploy/check.py"])
        #expect(outcome.status == 0 && outcome.output.contains("deploy/ checked"), "\(outcome.output)")
    }

    @Test func theHealthCommandSaysWhetherTheServerIsReady() async throws {
        let workspace = try BinaryWorkspace("health")
        defer { workspace.remove() }
        let server = try await ChildProcess.start(workspace.binary, ["serve", "--port", "0", "--database",
                                                                    "sqlite://\(workspace.directory)/p.db"],
                                                  log: workspace.directory + "/serve.log", environment: ["PATH": "/usr/bin:/bin"])
        let ready = try await Shell.run([workspace.binary, "health", "--url", "http://127.0.0.1:\(server.port)/health/ready"])
        #expect(ready.status == 0 && ready.output.contains("ready"), "\(ready.output)")
        let byPort = try await Shell.run(["env", "PARLEY_PORT=\(server.port)", workspace.binary, "health"])
        #expect(byPort.status == 0, "PARLEY_PORT names the server to ask: \(byPort.output)")
        server.stop()
        let down = try await Shell.run([workspace.binary, "health", "--url", "http://127.0.0.1:\(server.port)/health/ready"])
        #expect(down.status == 1 && down.output.contains("not ready"), "\(down.output)")
        let missing = try await Shell.run([workspace.binary, "health", "--url", "http://127.0.0.1:\(server.port)/nothing", "--timeout", "1"])
        #expect(missing.status == 1)
    }
}
