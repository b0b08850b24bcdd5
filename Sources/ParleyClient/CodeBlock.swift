/// The first fenced code block of a Markdown text (``` or ~~~, three or more, any info string), without its
/// fences; nil when there is none. An unclosed block runs to the end, as Markdown reads it.
public func firstCodeBlock(in text: String) -> String? {
    var fence: (character: Character, length: Int)?
    var lines: [Substring] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let trimmed = line.drop { $0 == " " }
        guard line.count - trimmed.count <= 3 else {
            if fence != nil { lines.append(line) }
            continue
        }
        let marker = trimmed.first
        let run = trimmed.prefix { $0 == marker }
        if let open = fence {
            if marker == open.character, run.count >= open.length, trimmed.dropFirst(run.count).allSatisfy({ $0 == " " }) {
                return lines.joined(separator: "\n")
            }
            lines.append(line)
        } else if let marker, marker == "`" || marker == "~", run.count >= 3,
                  !(marker == "`" && trimmed.dropFirst(run.count).contains("`")) {
            fence = (marker, run.count)
        }
    }
    return fence == nil ? nil : lines.joined(separator: "\n")
}
