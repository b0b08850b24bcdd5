/// The element-wise parts of the forward pass on 8 floats at a time: GELU, softmax, layer normalisation and the
/// residual additions. (The C library's `erff` and `expf`, one float per call, took a sixth of the encoder's time.)
enum VectorMath {
    typealias Vector = SIMD8<Float>

    /// GELU with the exact erf: `x/2 · (1 + erf(x/√2))`, in place.
    static func gelu(_ values: UnsafeMutablePointer<Float>, count: Int) {
        var index = 0
        while index + 8 <= count {
            let x = load(values + index)
            store(0.5 * x * (1 + erf(x * 0.70710678118654752)), values + index)
            index += 8
        }
        while index < count {
            let x = values[index]
            values[index] = 0.5 * x * (1 + erf(Vector(repeating: x * 0.70710678118654752))[0])
            index += 1
        }
    }

    /// erf as Eigen and PyTorch compute it in single precision: a rational function of x² on [-4, 4] (erf is ±1
    /// in float beyond), within a few units in the last place.
    static func erf(_ input: Vector) -> Vector {
        let x = clamp(input, -4, 4)
        let x2 = x * x
        var p = Vector(repeating: -2.72614225801306e-10)
        p = p * x2 + 2.77068142495902e-08
        p = p * x2 - 2.10102402082508e-06
        p = p * x2 - 5.69250639462346e-05
        p = p * x2 - 7.34990630326855e-04
        p = p * x2 - 2.95459980854025e-03
        p = p * x2 - 1.60960333262415e-02
        p = p * x
        var q = Vector(repeating: -1.45660718464996e-05)
        q = q * x2 - 2.13374055278905e-04
        q = q * x2 - 1.68282697438203e-03
        q = q * x2 - 7.37332916720468e-03
        q = q * x2 - 1.42647390514189e-02
        return p / q
    }

    /// eˣ (Cephes' single-precision method: 2ⁿ times a polynomial on the remainder), within 2 units in the last
    /// place; inputs below -87 give 0's neighbourhood, as softmax needs.
    static func exp(_ input: Vector) -> Vector {
        let x = clamp(input, -87.3, 88.3)
        // n = floor(x·log₂e + ½), from −126 to 127: rounded to nearest by adding and taking away 1.5·2²³, then
        // one less where that went up.
        let t = x * 1.44269504088896341 + 0.5
        var n = (t + 12_582_912) - 12_582_912
        n = n.replacing(with: n - 1, where: n .> t)
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        var y = Vector(repeating: 1.9875691500e-4)
        y = y * r + 1.3981999507e-3
        y = y * r + 8.3334519073e-3
        y = y * r + 4.1665795894e-2
        y = y * r + 1.6666665459e-1
        y = y * r + 5.0000001201e-1
        y = y * r * r + r + 1
        // 2ⁿ: n + 127 is an integer below 2²³, so adding 2²³ puts it in the low bits of the float's pattern.
        let biased = unsafeBitCast(n + (127 + 8_388_608), to: SIMD8<UInt32>.self) & 0x7F_FFFF
        return y * unsafeBitCast(biased &<< 23, to: Vector.self)
    }

    @inline(__always) static func clamp(_ x: Vector, _ low: Float, _ high: Float) -> Vector {
        let floor = x.replacing(with: low, where: x .< low)
        return floor.replacing(with: high, where: floor .> high)
    }

    /// Softmax of one row, in place.
    static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var largest = -Float.infinity
        var index = 0
        if count >= 8 {
            var lanes = Vector(repeating: -.infinity)
            while index + 8 <= count {
                let value = load(row + index)
                lanes = lanes.replacing(with: value, where: value .> lanes)
                index += 8
            }
            largest = lanes.max()
        }
        while index < count {
            largest = max(largest, row[index])
            index += 1
        }
        var sums = Vector()
        index = 0
        while index + 8 <= count {
            let value = exp(load(row + index) - largest)
            store(value, row + index)
            sums += value
            index += 8
        }
        var sum = sums.sum()
        while index < count {
            let value = exp(Vector(repeating: row[index] - largest))[0]
            row[index] = value
            sum += value
            index += 1
        }
        scale(row, count: count, by: 1 / sum)
    }

    /// `row = (row − mean) / √(variance + ε) · weight + bias`.
    static func layerNorm(_ row: UnsafeMutablePointer<Float>, count: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                          epsilon: Float) {
        precondition(count % 8 == 0, "hidden sizes are multiples of 8")
        var sums = Vector()
        for index in stride(from: 0, to: count, by: 8) { sums += load(row + index) }
        let mean = sums.sum() / Float(count)
        var squares = Vector()
        for index in stride(from: 0, to: count, by: 8) {
            let centred = load(row + index) - mean
            squares += centred * centred
        }
        let inverse = 1 / (squares.sum() / Float(count) + epsilon).squareRoot()
        for index in stride(from: 0, to: count, by: 8) {
            let normalised = (load(row + index) - mean) * inverse
            store(normalised * load(weight + index) + load(bias + index), row + index)
        }
    }

    /// `target += source`.
    static func add(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
        var index = 0
        while index + 8 <= count {
            store(load(target + index) + load(source + index), target + index)
            index += 8
        }
        while index < count {
            target[index] += source[index]
            index += 1
        }
    }

    static func scale(_ values: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        var index = 0
        while index + 8 <= count {
            store(load(values + index) * factor, values + index)
            index += 8
        }
        while index < count {
            values[index] *= factor
            index += 1
        }
    }

    @inline(__always) static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always) static func load(_ pointer: UnsafeMutablePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always) static func store(_ vector: Vector, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Vector.self)
    }
}
