#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Single-precision matrix products through the system's BLAS (OpenBLAS on Debian: `libopenblas0`), loaded
/// when a model is first used: Parley builds and runs without it, and only a configured local model needs it.
/// Each product runs on the calling thread (the library's own threads are turned off); the encoder's worker
/// threads are the parallelism, so a model never takes more cores than it was given.
struct BLAS: Sendable {
    private typealias Multiply = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
        UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    private typealias SetThreads = @convention(c) (Int32) -> Void

    /// The libraries tried, in order: OpenBLAS, then whichever BLAS Debian's alternatives point at.
    static let libraries = ["libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3", "libopenblas.dylib"]

    private let multiply: Multiply
    /// The library that was loaded.
    let library: String

    /// Loads the first BLAS found, or explains how to install one.
    static func load() throws(ModelFolderError) -> BLAS {
        for name in libraries {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(handle, "cblas_sgemm") else { continue }
            if let threads = dlsym(handle, "openblas_set_num_threads") {
                unsafeBitCast(threads, to: SetThreads.self)(1)
            }
            return BLAS(multiply: unsafeBitCast(symbol, to: Multiply.self), library: name)
        }
        throw ModelFolderError("no BLAS library found for the local embedding model (tried \(libraries.joined(separator: ", "))); "
            + "install OpenBLAS: apt-get install libopenblas0")
    }

    /// `C = A·Bᵀ + beta·C` (row-major): `A` is m×k with row stride `lda`, `B` is n×k with row stride `ldb`, `C`
    /// is m×n with row stride `ldc`.
    func multiplyTransposed(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1) {
        multiply(101, 111, 112, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `C = A·B` (row-major): `A` is m×k, `B` is k×n.
    func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  c: UnsafeMutablePointer<Float>, ldc: Int) {
        multiply(101, 111, 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    }
}
