import CParleyVectors

/// Embedding vectors kept compactly: each one scaled into `Int8` (one byte per dimension and a `Float` scale),
/// a quarter of the memory of `Float`s, with dot products computed by the widest integer instructions the
/// processor has (AVX-512 VNNI, AVX2 or the baseline; see `CParleyVectors`).
///
/// Vectors are normalised on the way in, so the dot product of two stored vectors is their cosine similarity
/// (within the rounding of the quantisation, about 0.4 % of the scale). Rows are addressed by position.
///
/// A large base also keeps 4-bit codes (``coarseFrom`` rows and up): a first pass over them reads half the bytes of
/// the int8 scan, and the best candidates it finds are scored again in int8.
public struct QuantizedVectors: Sendable {
    public let dimension: Int
    /// Row-major codes: row `r` is `codes[r * dimension ..< (r + 1) * dimension]`, padded to a multiple of 32.
    private(set) var codes: [Int8] = []
    private(set) var scales: [Float] = []
    /// The stride of one row in `codes`: the dimension rounded up to the SIMD width.
    let stride: Int
    /// From this many rows on, every row also has 4-bit codes (`Int.max`: never).
    public let coarseFrom: Int
    /// 4-bit codes, `nibbleBlocks` blocks of 64 bytes per row in the layout `parley_nibble_dots` reads; empty below
    /// ``coarseFrom`` rows.
    private(set) var nibbles: [UInt8] = []
    /// Blocks of 128 dimensions (64 bytes of 4-bit codes) per row.
    let nibbleBlocks: Int

    /// An int8 code divided by this, rounded, is its 4-bit code (-8…7, stored plus 8), so 4-bit dot products times it
    /// are in the int8 codes' units: one scale serves both.
    static let nibbleStep: Float = 127 / 7.5

    public init(dimension: Int, coarseFrom: Int = .max) {
        precondition(dimension > 0, "a vector has at least one dimension")
        self.dimension = dimension
        self.stride = (dimension + 31) / 32 * 32
        self.coarseFrom = max(1, coarseFrom)
        self.nibbleBlocks = (dimension + 127) / 128
    }

    public var count: Int { scales.count }

    /// Whether searches take the 4-bit first pass.
    public var hasCoarseCodes: Bool { !nibbles.isEmpty }

    /// Bytes held per vector (more once the base has 4-bit codes).
    public var bytesPerVector: Int { stride + MemoryLayout<Float>.size + (hasCoarseCodes ? nibbleBlocks * 64 : 0) }

    /// Appends `vector` (normalised first; the zero vector stays zero) and returns its row.
    @discardableResult
    public mutating func append(_ vector: [Float]) -> Int {
        let (row, scale) = Self.quantize(vector, dimension: dimension, stride: stride)
        codes.append(contentsOf: row)
        scales.append(scale)
        if count == coarseFrom {
            nibbles.reserveCapacity(count * nibbleBlocks * 64)
            for old in 0..<count { appendNibbles(row: old) }
        } else if count > coarseFrom {
            appendNibbles(row: count - 1)
        }
        return scales.count - 1
    }

    /// Derives a row's 4-bit codes from its int8 codes.
    private mutating func appendNibbles(row: Int) {
        let base = row * stride
        for block in 0..<nibbleBlocks {
            for j in 0..<64 {
                let low = block * 128 + j, high = low + 64
                nibbles.append(nibble(low < dimension ? codes[base + low] : 0)
                               | nibble(high < dimension ? codes[base + high] : 0) << 4)
            }
        }
    }

    private func nibble(_ code: Int8) -> UInt8 {
        UInt8(Int((Float(code) / Self.nibbleStep).rounded().clamped(to: -8...7)) + 8)
    }

    /// A query prepared for scoring against the rows: normalised and quantised the same way.
    public func query(_ vector: [Float]) -> Query {
        var (row, scale) = Self.quantize(vector, dimension: dimension, stride: stride)
        row += [Int8](repeating: 0, count: max(0, nibbleBlocks * 128 - row.count))
        return Query(codes: row, scale: scale, sum: row.reduce(0) { $0 + Int32($1) })
    }

    /// A vector to compare with the rows, in their representation.
    public struct Query: Sendable {
        /// Padded to at least `nibbleBlocks` × 128 (zeros beyond the dimension).
        let codes: [Int8]
        let scale: Float
        /// Σ codes: the 4-bit codes are stored plus 8, which adds 8·sum to each of their dot products.
        let sum: Int32
    }

    /// The cosine similarity of a query and a row.
    @inline(__always)
    public func similarity(_ query: Query, _ row: Int) -> Float {
        query.codes.withUnsafeBufferPointer { q in
            codes.withUnsafeBufferPointer { c in
                Float(Self.dot(q.baseAddress!, c.baseAddress! + row * stride, count: stride)) * scale(query, row)
            }
        }
    }

    /// The cosine similarity of two rows.
    @inline(__always)
    public func similarity(_ a: Int, _ b: Int) -> Float {
        codes.withUnsafeBufferPointer { c in
            Float(Self.dot(c.baseAddress! + a * stride, c.baseAddress! + b * stride, count: stride)) * scales[a] * scales[b]
        }
    }

    /// The vector of a row, as stored (normalised, rounded).
    public func vector(at row: Int) -> [Float] {
        (0..<dimension).map { Float(codes[row * stride + $0]) * scales[row] }
    }

    /// Σ a[i]·b[i] over `count` bytes, exact in `Int32`.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, count: Int) -> Int32 {
        parley_int8_dot(a, b, count)
    }

    /// The cosine similarities of `query` to the rows in `range`, passed to `body` a block at a time as (first row,
    /// similarities): the scan an exact search makes, one call into the vector kernel per block of rows. With
    /// `coarse` (only when ``hasCoarseCodes``), from the 4-bit codes: the first pass of a large base's search.
    func scan(_ query: Query, rows range: Range<Int>, coarse: Bool = false, _ body: (Int, UnsafeBufferPointer<Float>) -> Void) {
        precondition(!coarse || hasCoarseCodes, "no 4-bit codes below \(coarseFrom) rows")
        let block = 1024
        // 4-bit codes are stored plus 8, which adds 8·Σ query to each dot product; times `nibbleStep` they are in the
        // int8 codes' units, so one scale per row serves both.
        let offset = coarse ? 8 * query.sum : 0, step = coarse ? Self.nibbleStep : 1
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: block) { dots in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: block) { similar in
                scales.withUnsafeBufferPointer { scales in
                    var first = range.lowerBound
                    while first < range.upperBound {
                        let count = min(block, range.upperBound - first)
                        dotProducts(query, rows: first..<first + count, coarse: coarse, into: dots.baseAddress!)
                        // As ``similarity(_:_:)`` computes it, so both passes and the rescoring agree.
                        for i in 0..<count {
                            similar[i] = Float(dots[i] - offset) * step * (query.scale * scales[first + i])
                        }
                        body(first, UnsafeBufferPointer(rebasing: similar[..<count]))
                        first += count
                    }
                }
            }
        }
    }

    /// The vector kernel's dot products of `query` with the rows in `rows`, from their int8 codes or (`coarse`) their
    /// 4-bit codes.
    private func dotProducts(_ query: Query, rows: Range<Int>, coarse: Bool, into dots: UnsafeMutablePointer<Int32>) {
        let kernel = parley_int8_kernel_best()
        query.codes.withUnsafeBufferPointer { q in
            if coarse {
                let rowBytes = nibbleBlocks * 64
                nibbles.withUnsafeBufferPointer { n in
                    parley_nibble_dots(kernel, q.baseAddress!, n.baseAddress! + rows.lowerBound * rowBytes, nibbleBlocks,
                                       rows.count, dots)
                }
            } else {
                codes.withUnsafeBufferPointer { c in
                    parley_int8_dots(kernel, q.baseAddress!, c.baseAddress! + rows.lowerBound * stride, stride, stride,
                                     rows.count, dots)
                }
            }
        }
    }

    /// The scale that turns a row's dot product with `query` into their cosine similarity.
    @inline(__always)
    func scale(_ query: Query, _ row: Int) -> Float { query.scale * scales[row] }

    /// `vector` normalised, scaled so its largest component is ±127, rounded; zero-padded to `stride`.
    static func quantize(_ vector: [Float], dimension: Int, stride: Int) -> (codes: [Int8], scale: Float) {
        precondition(vector.count == dimension, "expected \(dimension) dimensions, got \(vector.count)")
        var squares: Float = 0, largest: Float = 0
        for value in vector where value.isFinite {
            squares += value * value
            largest = max(largest, abs(value))
        }
        var codes = [Int8](repeating: 0, count: stride)
        guard squares > 0, largest > 0 else { return (codes, 0) }
        let norm = squares.squareRoot()
        let scale = largest / norm / 127
        for (index, value) in vector.enumerated() where value.isFinite {
            codes[index] = Int8((value / norm / scale).rounded().clamped(to: -127...127))
        }
        return (codes, scale)
    }
}

extension Float {
    func clamped(to range: ClosedRange<Float>) -> Float { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
