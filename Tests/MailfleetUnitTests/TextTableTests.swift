import Foundation
import MailfleetCore
import Testing

/// The tables the CLI prints for people, and the progress it shows for long work.
@Suite struct TextTableTests {
    @Test func columnsAreAsWideAsTheirWidestCellWithNumbersOnTheRightAndNoTrailingSpaces() {
        var table = TextTable([.right("PRIORITY"), .left("NAME"), .left("KIND")])
        table.append(["5", "mg", "mailgun"])
        table.append(["100", "a-much-longer-name", ""])
        #expect(table.text == """
            PRIORITY  NAME                KIND
                   5  mg                  mailgun
                 100  a-much-longer-name

            """)
    }

    @Test func widthIsCountedInTerminalCellsNotCharactersOrBytes() {
        #expect(TextTable.displayWidth("abc") == 3)
        #expect(TextTable.displayWidth("日本") == 4)
        #expect(TextTable.displayWidth("e\u{301}") == 1)  // e + combining acute accent
        #expect(TextTable.displayWidth("é") == 1)
        #expect(TextTable.displayWidth("📬") == 2)
        #expect(TextTable.displayWidth("") == 0)

        var table = TextTable([.left("NAME"), .right("N")])
        table.append(["日本", "1"])
        table.append(["café", "22"])
        let lines = table.text.split(separator: "\n").map(String.init)
        // Every row ends in the same terminal column.
        #expect(Set(lines.map(TextTable.displayWidth)).count == 1)
        #expect(lines[1] == "日本   1")
        #expect(lines[2] == "café  22")
    }

    @Test func rowsStayOnOneLineAndHaveOneCellPerColumn() {
        var table = TextTable([.left("A"), .left("B")])
        table.append(["x\ty", "line\nbreak", "extra"])
        table.append(["only"])
        #expect(table.rows == [["x y", "line break"], ["only", ""]])
        #expect(table.text == "A     B\nx y   line break\nonly\n")
    }

    @Test func anEmptyTableIsItsHeader() {
        #expect(TextTable([.left("ID"), .right("COUNT")]).text == "ID  COUNT\n")
    }

    @Test func timesAreUTCToTheSecond() {
        #expect(TextTable.time(Date(timeIntervalSince1970: 1_764_590_400.987)) == "2025-12-01 12:00:00 UTC")
        #expect(TextTable.time(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00 UTC")
    }

    @Test func migrationsShowTheSameProgressAsReDrives() {
        var progress = WorkProgress(total: 4, step: "migration", verb: "applied")
        #expect(progress.bar(width: 8) == "[--------] 0/4 0%")
        progress.advance(by: 1)
        #expect(progress.line == "migration 1: 1 of 4 applied")
        #expect(progress.bar(width: 8) == "[##------] 1/4 25%")
    }
}
