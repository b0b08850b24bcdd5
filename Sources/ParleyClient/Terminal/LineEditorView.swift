/// Draws a ``LineEditor``'s message under its prompt, again after every key: the rows it takes at the
/// terminal's width are computed here (wide characters, long lines wrapped, lines of a multi-line message under a
/// continuation mark), so the cursor can be put back on the right row and column.
public struct LineEditorView: Sendable {
    /// The row, counted from the prompt's, that the cursor was left on by the last drawing.
    private var cursorRow = 0
    /// Whether the last drawing ended at the start of a row (its last row was full).
    private var endedAtRowStart = false

    public init() {}

    /// The terminal text that replaces the last drawing with `text` after `prompt` (which may hold escapes; it
    /// takes `promptColumns` columns), the cursor at `cursor`. Further lines start under `continuation`.
    public mutating func draw(prompt: String, promptColumns: Int, continuation: String, text: [Character], cursor: Int,
                              width: Int) -> String {
        let width = max(width, promptColumns + 2)
        var output = "\u{1B}[?25l" + (cursorRow > 0 ? "\u{1B}[\(cursorRow)A" : "") + "\r\u{1B}[J" + prompt
        var row = 0
        var column = promptColumns
        var cursorPlace = (row: 0, column: promptColumns)
        for (index, character) in text.enumerated() {
            if index == cursor { cursorPlace = (row, column) }
            if character == "\n" {
                output += "\r\n" + continuation
                row += 1
                column = promptColumns
                continue
            }
            let shown = TerminalText.visible(character)
            let columns = TerminalText.columns(of: shown)
            if column + columns > width {
                // The terminal wraps by itself (or leaves a wide character's last column blank).
                row += 1
                column = 0
                if index == cursor { cursorPlace = (row, column) }
            }
            output += shown
            column += columns
        }
        if cursor >= text.count {
            cursorPlace = column >= width ? (row + 1, 0) : (row, column)
        }
        if column >= width {
            // The cursor waits past the last column; put it on the next row so that rows are counted right.
            output += "\r\n"
            row += 1
            column = 0
        }
        endedAtRowStart = column == 0 && row > 0 && text.last != "\n"
        if row > cursorPlace.row { output += "\u{1B}[\(row - cursorPlace.row)A" }
        output += "\r" + (cursorPlace.column > 0 ? "\u{1B}[\(cursorPlace.column)C" : "") + "\u{1B}[?25h"
        cursorRow = cursorPlace.row
        return output
    }

    /// Leaves the message as last drawn — with the cursor at its end — and moves below it.
    public mutating func finish() -> String {
        cursorRow = 0
        return endedAtRowStart ? "" : "\r\n"
    }

    /// Forgets the last drawing (the screen was cleared or printed over).
    public mutating func forget() {
        cursorRow = 0
    }
}
