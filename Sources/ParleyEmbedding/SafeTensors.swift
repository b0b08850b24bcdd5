import Foundation

/// A `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each tensor's type, shape
/// and byte range, then the tensors' bytes. The file is mapped, not read: opening it reads only the header.
struct SafeTensors: Sendable {
    struct Entry: Sendable {
        var dtype: String
        var shape: [Int]
        var range: Range<Int>
    }

    static let elementSizes = ["F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4]
    /// Far above any real header (a few kB per hundred tensors); a larger claim is a damaged file.
    static let maxHeaderBytes = 64 << 20

    let path: String
    let entries: [String: Entry]
    private let file: MappedFile
    private let dataStart: Int

    init(path: String) throws(ModelFolderError) {
        self.path = path
        file = try MappedFile(path: path)
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw ModelFolderError("\(path) is not a safetensors file (too short)") }
        let headerLength = Int(UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self)))
        guard headerLength > 1, headerLength <= Self.maxHeaderBytes, 8 + headerLength <= bytes.count else {
            throw ModelFolderError("\(path) is not a safetensors file (its header length \(headerLength) does not fit the file)")
        }
        dataStart = 8 + headerLength
        let header = Data(bytes[8..<dataStart])
        guard let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw ModelFolderError("\(path) is not a safetensors file (its header is not a JSON object)")
        }
        var entries: [String: Entry] = [:]
        let dataBytes = bytes.count - dataStart
        for (name, value) in object where name != "__metadata__" {
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int], offsets.count == 2,
                  shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataBytes else {
                throw ModelFolderError("\(path): the header's entry for '\(name)' is malformed or points outside the file")
            }
            if let size = Self.elementSizes[dtype], shape.reduce(1, *) * size != offsets[1] - offsets[0] {
                throw ModelFolderError("\(path): '\(name)' has \(offsets[1] - offsets[0]) bytes, not what its shape \(shape) of \(dtype) needs")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        self.entries = entries
    }

    /// Checks that the tensor `name` exists with `shape` and a supported type, without reading it.
    @discardableResult
    func check(_ name: String, shape: [Int]) throws(ModelFolderError) -> Entry {
        guard let entry = entries[name] else { throw ModelFolderError("\(path) has no tensor '\(name)'") }
        guard entry.shape == shape else {
            throw ModelFolderError("\(path): '\(name)' has shape \(entry.shape), the model's config needs \(shape)")
        }
        guard ["F32", "F16", "BF16"].contains(entry.dtype) else {
            throw ModelFolderError("\(path): '\(name)' is \(entry.dtype); supported weight types are F32, F16 and BF16")
        }
        return entry
    }

    /// The tensor `name` as 32-bit floats, checked against `shape`. F32 data is used in place from the mapping
    /// (read from disk as it is first used); F16 and BF16 are widened into memory of their own.
    func floats(_ name: String, shape: [Int]) throws(ModelFolderError) -> FloatTensor {
        let entry = try check(name, shape: shape)
        let count = shape.reduce(1, *)
        let raw = UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + entry.range.lowerBound)..<(dataStart + entry.range.upperBound)])
        switch entry.dtype {
        case "F32":
            if Int(bitPattern: raw.baseAddress) % MemoryLayout<Float>.alignment == 0 {
                return FloatTensor(mapped: raw.baseAddress!.assumingMemoryBound(to: Float.self), count: count, file: file)
            }
            return FloatTensor(count: count) { index in raw.loadUnaligned(fromByteOffset: index * 4, as: Float.self) }
        case "F16":
            return FloatTensor(count: count) { index in
                Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))))
            }
        case "BF16":
            return FloatTensor(count: count) { index in
                Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))) << 16)
            }
        default:
            preconditionFailure("check(_:shape:) admits only F32, F16 and BF16")
        }
    }
}

/// Read-only 32-bit floats: a view into a mapped file, or memory of its own.
final class FloatTensor: @unchecked Sendable {
    let pointer: UnsafePointer<Float>
    let count: Int
    private let owned: UnsafeMutablePointer<Float>?
    /// Keeps the mapping alive while the view is.
    private let file: MappedFile?

    init(mapped pointer: UnsafePointer<Float>, count: Int, file: MappedFile) {
        self.pointer = pointer
        self.count = count
        self.owned = nil
        self.file = file
    }

    init(count: Int, element: (Int) -> Float) {
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        for index in 0..<count { memory[index] = element(index) }
        self.pointer = UnsafePointer(memory)
        self.count = count
        self.owned = memory
        self.file = nil
    }

    deinit { owned?.deallocate() }

    subscript(index: Int) -> Float { pointer[index] }
}
