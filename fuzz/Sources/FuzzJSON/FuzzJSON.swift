import FuzzSupport
import Foundation
@testable import ParleyGateway
@testable import ParleyProviders

/// libFuzzer entry: every JSON reader a client's or an upstream's bytes reach. Crashes, traps and hangs are
/// findings; so is a body the strict check accepts that Foundation cannot parse (the two would disagree about
/// what a request says).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    if (try? StrictJSON.validate(bytes)) != nil {
        guard (try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)) != nil else {
            fatalError("StrictJSON accepted what Foundation refuses: \(String(decoding: bytes, as: UTF8.self))")
        }
        _ = try? CanonicalJSON.canonical(bytes)
    }
    _ = try? OpenAIChunk(parsing: bytes)
    _ = try? ChatCompletionBody(parsing: bytes)
    _ = try? EmbeddingsBody(parsing: bytes)
    return 0
}

@main enum FuzzJSONMain {
    static func main() { runFuzzer(fuzzJSON) }
}
