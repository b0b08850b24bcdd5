@testable import ParleyGateway
import Testing

/// An object's keys are matched as bytes, escapes decoded first: `"mod\u0065l"` is the key `model`.
@Suite struct JSONKeyTests {
    private func keys(_ json: String) throws -> [JSONKey] {
        var scanner = JSONScanner(Array(json.utf8))
        var found: [JSONKey] = []
        try scanner.readObject { scanner, key in
            found.append(key)
            try scanner.skipValue()
        }
        return found
    }

    @Test func keysMatchLiteralsInSwitchesAndComparisons() throws {
        let found = try keys(#"{"model": 1, "mod\u0065l": 2, "modelx": 3, "": 4, "caf\u00e9": 5, "café": 6}"#)
        #expect(found.map(\.string) == ["model", "model", "modelx", "", "café", "café"])
        #expect(found[0] == "model" && found[1] == "model")
        #expect(found[2] != "model" && found[3] != "model" && found[3] == "")
        #expect(found[4] == "café" && found[5] == "café" && found[4] == found[5])
        let matched = found.map { key -> String in
            switch key {
            case "model": return "model"
            case "", "café": return "other"
            default: return "none"
            }
        }
        #expect(matched == ["model", "model", "none", "other", "other", "other"])
        #expect("\(found[4])" == "café")
    }

    @Test func aKeyNamedTwiceIsRefusedEvenWhenOneIsEscaped() {
        #expect(throws: StrictJSON.Invalid.self) { try StrictJSON.validate(Array(#"{"a": 1, "\u0061": 2}"#.utf8)) }
        #expect(throws: Never.self) { try StrictJSON.validate(Array(#"{"a": 1, "b": {"a": 2}}"#.utf8)) }
    }
}
