import Logging

/// Keeps a logger's metadata itself and hands it to `Wrapped` only with a line that is written.
///
/// swift-log's `StreamLogHandler` formats all of its metadata into text whenever any of it is set, and each request
/// sets some (Hummingbird's request id, Parley's `request_id`): thousands of instructions per request for lines that,
/// below `info`, are never written. Wrapped, the handler's own metadata stays empty and the metadata arrives with each
/// event, formatted then.
public struct DeferredMetadataLogHandler<Wrapped: LogHandler>: LogHandler {
    private var wrapped: Wrapped
    public var metadata: Logger.Metadata = [:]

    public init(_ wrapped: Wrapped) {
        self.wrapped = wrapped
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            // The line's own metadata wins over the logger's, as it would in the wrapped handler.
            event.metadata = metadata.merging(event.metadata ?? [:]) { $1 }
        }
        wrapped.log(event: event)
    }
}
