import Foundation
import ParleyMockLLM
import ParleyTestSupport
import ParleyServer
import Testing

/// The official `openai` Python SDK (from PyPI) against a live Parley in front of the mock: the checks are in
/// `Tests/python/openai_sdk_check.py`; this runs them and shows their output.
@Suite struct OpenAISDKTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../python/openai_sdk_check.py").standardized.path
    static var required: Bool { ProcessInfo.processInfo.environment["PARLEY_REQUIRE_SERVICES"] == "1" }

    @Test func theOfficialSDKWorksUnchanged() async throws {
        guard await Shell.pythonHas("openai") else {
            if Self.required { Issue.record("the openai Python package is missing: pip install openai") }
            return
        }
        // With the built-in embedding model too, when its folder is at hand.
        let folder = EmbeddingModelFixture.folder
        try await TestParley.with(configure: {
            $0.embeddingModelFolder = folder
            $0.apiKeys = ["sk-parley-sdk"]
            $0.router.maxRetryWait = .seconds(5)
            $0.router.backoffBase = .milliseconds(20)
        }) { parley in
            let outcome = try await Shell.run(["python3", Self.script, parley.baseURL + "/v1", "sk-parley-sdk"]
                                              + (folder == nil ? [] : ["local/all-MiniLM-L6-v2"]))
            #expect(outcome.status == 0, "openai SDK checks failed:\n\(outcome.output)")
            #expect(outcome.output.contains("all passed"), "\(outcome.output)")
        }
    }
}
