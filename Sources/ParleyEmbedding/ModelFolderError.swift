/// Why a folder cannot be used as an embedding model: names the file and what is missing or unsupported in it.
public struct ModelFolderError: Error, Sendable, CustomStringConvertible, Equatable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
