import HummingbirdCore
import Logging
import NIOCore
import ParleyCore

/// A server child channel that handles each connection with its event loop as the task's executor preference
/// (``EventLoopTaskExecutor``) and as ``RequestExecutor/current`` for the tasks its requests start; setting up the
/// channel is left to `Inner`.
struct LoopBoundChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value
    let inner: Inner

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        let executor = EventLoopTaskExecutor(value.channel.eventLoop)
        await RequestExecutor.$current.withValue(executor) {
            await withTaskExecutorPreference(executor) {
                await inner.handle(value: value, logger: logger)
            }
        }
    }
}
