import ParleyClient
import Testing

/// `parley ask -x`: the first fenced code block of an answer.
@Suite struct CodeBlockTests {
    @Test(arguments: [
        ("Here:\n```swift\nprint(1)\nprint(2)\n```\nand\n```\nsecond\n```", "print(1)\nprint(2)"),
        ("~~~\na ``` inside\n~~~", "a ``` inside"),
        ("````md\n```\nnested\n```\n````", "```\nnested\n```"),
        ("  ```\nindented fence\n  ```", "indented fence"),
        ("```\nunclosed to the end", "unclosed to the end"),
        ("```\n```", ""),
    ])
    func theFirstBlockWithoutItsFences(text: String, expected: String) {
        #expect(firstCodeBlock(in: text) == expected)
    }

    @Test(arguments: ["no code here", "inline `code` only", "``` not a fence ``` on one line", "    ```\n    indented code, not a fence"])
    func noBlock(text: String) {
        #expect(firstCodeBlock(in: text) == nil)
    }
}
