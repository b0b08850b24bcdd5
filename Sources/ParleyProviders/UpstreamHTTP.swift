import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import ParleyCore

/// Turns the events of an upstream's stream into ``StreamChunk``s (OpenAI chunk objects and what they say),
/// one event at a time.
protocol StreamTranslator {
    /// The chunks for `event` (none for pings and bookkeeping events). Throws for an event that reports an
    /// error or is not in the upstream's format.
    mutating func translate(_ event: ServerSentEvent) throws -> [StreamChunk]
    /// The upstream said the answer is over: stop reading.
    var isDone: Bool { get }
    /// The answer ended properly, so the connection closing now is not a cut.
    var isComplete: Bool { get }
}

/// The HTTP work every backend shares: sending within the request's deadline, error statuses and connection
/// failures as ``ProviderError``s, reading bodies and model lists, and relaying an event stream.
enum UpstreamHTTP {
    /// Largest error body read from an upstream.
    static let maxErrorBody = 64 * 1024

    /// Sends `request` and returns a 2xx response; anything else is a ``ProviderError``.
    static func execute(_ client: HTTPClient, _ request: HTTPClientRequest, limits: AttemptLimits) async throws
        -> HTTPClientResponse
    {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: nioDeadline(limits.deadline))
        } catch {
            throw connectError(error)
        }
        guard (200..<300).contains(Int(response.status.code)) else { throw await httpError(response) }
        return response
    }

    /// The whole body; a connection that breaks while it is read is a cut.
    static func collect(_ response: HTTPClientResponse, upTo limit: Int) async throws -> ByteBuffer {
        do {
            return try await response.body.collect(upTo: limit)
        } catch {
            throw ProviderError.streamCut(describe(error))
        }
    }

    /// The ids of a `{"data": [{"id": …}]}` model list, as OpenAI and Anthropic both send it.
    static func modelIDs(_ response: HTTPClientResponse, format: String) async throws -> [String] {
        struct ModelList: Decodable {
            struct Model: Decodable { var id: String }
            var data: [Model]
        }
        let bytes = try await collect(response, upTo: 4 << 20)
        do {
            return try JSONDecoder().decode(ModelList.self, from: bytes).data.map(\.id)
        } catch {
            throw ProviderError.invalidResponse("the model list is not in \(format)'s format")
        }
    }

    /// Reads an event stream, handing each network read's chunks to `emit` in one batch, until the
    /// translator says the answer is done. Chunks before a bad event are still handed over; a stream that
    /// ends before the answer is complete is a cut.
    static func relay<Translator: StreamTranslator>(
        _ response: HTTPClientResponse, watchdog: StreamWatchdog, translator: inout Translator,
        emit: @Sendable ([StreamChunk]) async -> Bool
    ) async throws {
        var decoder = SSEDecoder()
        do {
            for try await buffer in response.body {
                let events = try decoder.feed(buffer.readableBytesView)
                if events.isEmpty { continue }
                watchdog.progress()
                var batch: [StreamChunk] = []
                batch.reserveCapacity(events.count)
                do {
                    for event in events where !translator.isDone {
                        batch += try translator.translate(event)
                    }
                } catch {
                    // What arrived before the bad event is the client's.
                    if !batch.isEmpty { _ = await emit(batch) }
                    throw error
                }
                if !batch.isEmpty, await !emit(batch) { throw CancellationError() }
                if translator.isDone { break }
            }
        } catch let error as ProviderError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as SSEDecoder.LineTooLong {
            throw ProviderError.invalidResponse(error.description)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ProviderError.streamCut(describe(error))
        }
        if !translator.isComplete {
            throw ProviderError.streamCut("the connection closed before the answer was finished")
        }
    }

    static func httpError(_ response: HTTPClientResponse) async -> ProviderError {
        let status = Int(response.status.code)
        // Seconds only (an HTTP-date is ignored); an upstream asking for more than a day is treated as asking for a day.
        let retryAfter = response.headers.first(name: "retry-after").flatMap { CheckedNumber.decimal($0, in: 0...1e12) }
            .map { min($0, 86_400) }
        var message = response.status.reasonPhrase
        if let bytes = try? await response.body.collect(upTo: maxErrorBody) {
            if let envelope = try? JSONDecoder().decode(OpenAIWire.ErrorEnvelope.self, from: bytes),
               let text = envelope.message, !text.isEmpty {
                message = text
            } else if bytes.readableBytes > 0 {
                message = String(buffer: bytes).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return .http(status: status, message: String(message.prefix(500)), retryAfterSeconds: retryAfter)
    }

    static func connectError(_ error: any Error) -> any Error {
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        return ProviderError.connect(describe(error))
    }

    static func describe(_ error: any Error) -> String {
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .remoteConnectionClosed: return "the connection was closed by the upstream"
            case .readTimeout: return "read timed out"
            case .connectTimeout: return "connect timed out"
            case .deadlineExceeded: return "the request took longer than the total timeout"
            default: return String(describing: clientError)
            }
        }
        return String(describing: error)
    }

    static func nioDeadline(_ instant: ContinuousClock.Instant) -> NIODeadline {
        .now() + OpenAICompatibleProvider.timeAmount(max(.zero, instant - .now))
    }
}
