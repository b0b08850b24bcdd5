import ParleyRetrieval
import Testing

@Suite struct HeadingPathTests {
    @Test func headingPathsSurviveTheirStoredForm() {
        let paths: [[String]] = [[], ["Guide"], ["Guide", "Installing", "On Linux"], ["Ünïcode › like", "a›b"], ["", "x"],
                                 ["a ", " b"]]
        for path in paths {
            let stored = StoredPassage.joined(headings: path)
            // A heading that holds the separator itself cannot round-trip; the chunker never makes one.
            if path.contains(where: { $0.contains(" › ") }) { continue }
            #expect(StoredPassage.headings(joined: stored) == (path == [""] ? [] : path), "\(path)")
        }
        #expect(StoredPassage.headings(joined: "A › B › C") == ["A", "B", "C"])
        #expect(StoredPassage.headings(joined: "A ›  › C") == ["A", "", "C"])
        #expect(StoredPassage.headings(joined: "A › › C") == ["A", "› C"])
        #expect(StoredPassage.headings(joined: "") == [])
    }
}
