#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory: its pages are read from disk only when touched, and shared with the
/// page cache (a model's weights cost no memory of their own until used, and none twice).
final class MappedFile: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws(ModelFolderError) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ModelFolderError("cannot open \(path)") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw ModelFolderError("cannot read \(path)") }
        let count = Int(info.st_size)
        guard count > 0 else { throw ModelFolderError("\(path) is empty") }
        guard let pointer = mmap(nil, count, PROT_READ, MAP_PRIVATE, descriptor, 0), pointer != MAP_FAILED else {
            throw ModelFolderError("cannot map \(path) into memory")
        }
        bytes = UnsafeRawBufferPointer(start: pointer, count: count)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }
}
