import ParleyCore
import Testing

/// Which models take images, by name: `*` matches any run of characters, case aside; nothing else is special.
@Suite struct ModelNamePatternsTests {
    @Test(arguments: [
        ("gpt-4o*", "gpt-4o-mini", true), ("gpt-4o*", "GPT-4o", true), ("gpt-4o*", "gpt-4", false),
        ("o1", "o1", true), ("o1", "o1-mini", false), ("qwen*vl*", "qwen2.5vl:7b", true), ("qwen*vl*", "qwen2.5:7b", false),
        ("*vision*", "llama3.2-vision:11b", true), ("*-vl*", "Qwen2-VL-7B-Instruct", true), ("a*b*c", "abxbc", true),
        ("a*b*c", "abxbd", false), ("*", "anything", true), ("claude-3*", "claude-2.1", false), ("x?", "xy", false),
        ("ÄRGER*", "ärger-7b", true), ("ärger*", "ÄRGER-7B", true), ("*b", "", false), ("**", "", true),
    ])
    func patterns(_ pattern: String, _ name: String, _ expected: Bool) {
        #expect(ModelNamePatterns([pattern]).matches(name) == expected, "\(pattern) ~ \(name)")
    }

    @Test func noPatternsMatchNothingAndEmptyOnesAreDropped() {
        #expect(!ModelNamePatterns([]).matches("gpt-4o"))
        #expect(ModelNamePatterns(["", "llava*"]).patterns == ["llava*"])
        #expect(!ModelNamePatterns([""]).matches(""))
    }
}
