import ControlProtocol
import Testing
@testable import huaying

@Suite struct TextFormattingTests {
    @Test func cjkAndFullWidthCountTwoColumns() {
        #expect(TextFormatting.displayWidth("abc") == 3)
        #expect(TextFormatting.displayWidth("幸福社区") == 8)
        #expect(TextFormatting.displayWidth("周三 09:00") == 10)
        #expect(TextFormatting.displayWidth("，（）") == 6)
        #expect(TextFormatting.displayWidth("e\u{301}") == 1)
        #expect(TextFormatting.displayWidth("") == 0)
    }

    @Test func tablePadsByDisplayWidth() {
        let table = TextFormatting.table([["UNIT", "OPEN"], ["幸福社区", "1"], ["x", "22"]])
        #expect(table == """
            UNIT      OPEN
            幸福社区  1
            x         22
            """)
    }

    @Test func tableKeepsEachRowOnOneLine() {
        #expect(TextFormatting.table([["a", "b\nc"], ["d", "e"]]) == "a  b c\nd  e")
    }

    @Test func truncateCutsByDisplayWidth() {
        #expect(TextFormatting.truncate("请在公告栏张贴", toWidth: 7) == "请在公…")
        #expect(TextFormatting.displayWidth(TextFormatting.truncate("请在公告栏张贴", toWidth: 7)) <= 7)
        #expect(TextFormatting.truncate("short", toWidth: 10) == "short")
        #expect(TextFormatting.truncate("two\nlines", toWidth: 20) == "two lines")
    }

    @Test func csvQuotesOnlyWhenNeeded() {
        #expect(TextFormatting.csvField("plain") == "plain")
        #expect(TextFormatting.csvField("选举 公告") == "选举 公告")
        #expect(TextFormatting.csvField("a,b") == "\"a,b\"")
        #expect(TextFormatting.csvField("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(TextFormatting.csvField("two\nlines") == "\"two\nlines\"")
        #expect(TextFormatting.csvField("cr\rhere") == "\"cr\rhere\"")
        #expect(TextFormatting.csvField("") == "")
        #expect(TextFormatting.csv([["a", "b,c"], ["", "\""]]) == "a,\"b,c\"\r\n,\"\"\"\"\r\n")
    }

    @Test func instantsShowDateWeekdayAndTime() {
        #expect(TextFormatting.instant("2026-11-25T09:00:00+08:00") == "2026-11-25 周三 09:00")
        #expect(TextFormatting.instant("2026-11-01T09:30:15+08:00") == "2026-11-01 周日 09:30:15")
        #expect(TextFormatting.instant("2026-11-23T17:05") == "2026-11-23 周一 17:05")
        #expect(TextFormatting.instant("2024-02-29T00:00:00Z") == "2024-02-29 周四 00:00")
        #expect(TextFormatting.instant("soon") == "soon")
        #expect(TextFormatting.instant("2026-13-01T09:00") == "2026-13-01T09:00")
    }

    @Test func instantsCarryTheRightWeekdayAcrossCenturies() {
        #expect(TextFormatting.instant("1970-01-01T00:00Z") == "1970-01-01 周四 00:00")
        #expect(TextFormatting.instant("2000-03-01T08:00Z") == "2000-03-01 周三 08:00")
        #expect(TextFormatting.instant("2026-10-01T09:00+08:00") == "2026-10-01 周四 09:00")
        #expect(TextFormatting.instant("1949-10-01T15:00+08:00") == "1949-10-01 周六 15:00")
        #expect(TextFormatting.instant("2026-02-30T09:00") == "2026-02-30T09:00", "not a date: unchanged")
    }

    @Test func durationsShowLargestUnitsDownToMinutes() {
        #expect(TextFormatting.duration(seconds: 11_520, language: .en) == "3h12m")
        #expect(TextFormatting.duration(seconds: 2 * 86_400 + 4 * 3600, language: .en) == "2d4h")
        #expect(TextFormatting.duration(seconds: 86_400 + 300, language: .en) == "1d5m")
        #expect(TextFormatting.duration(seconds: 45, language: .en) == "45s")
        #expect(TextFormatting.duration(seconds: 0, language: .en) == "0s")
        #expect(TextFormatting.duration(seconds: 90, language: .en) == "1m")
    }

    @Test func terminalSafeShowsControlCharactersAsEscapes() {
        // Clear screen, set the window title, bell, backspace: all shown, none obeyed.
        #expect(ControlCharacters.terminalSafe("\u{1B}[2J\u{1B}]0;pwned\u{07}ok\u{08}") == "\\x1B[2J\\x1B]0;pwned\\x07ok\\x08")
        #expect(ControlCharacters.terminalSafe("del\u{7F} c1\u{9B}31m nul\u{0}") == "del\\x7F c1\\u{9B}31m nul\\x00")
        #expect(ControlCharacters.terminalSafe("right\u{202E}txt.exe") == "right\\u{202E}txt.exe")
        #expect(ControlCharacters.terminalSafe("cr\roverwrite") == "cr\\x0Doverwrite")
        #expect(ControlCharacters.terminalSafe("两行\n\t缩进") == "两行\n\t缩进", "line feed and tab stay, CJK untouched")
        let once = ControlCharacters.terminalSafe("\u{1B}[31m")
        #expect(ControlCharacters.terminalSafe(once) == once)
    }

    @Test func tablesAndTruncationEscapeControlCharacters() {
        #expect(TextFormatting.table([["note"], ["\u{1B}[2Jhi"]]) == "note\n\\x1B[2Jhi")
        #expect(TextFormatting.table([["a\tb", "c"]]) == "a b  c")
        #expect(TextFormatting.truncate("\u{07}\u{07}\u{07}", toWidth: 40) == "\\x07\\x07\\x07")
        #expect(!TextFormatting.truncate("\u{1B}[2J" + String(repeating: "x", count: 80), toWidth: 20).contains("\u{1B}"))
    }

    @Test func csvDefusesFormulasAndEscapesControls() {
        #expect(TextFormatting.csvField("=HYPERLINK(\"http://x\")") == "\"'=HYPERLINK(\"\"http://x\"\")\"")
        #expect(TextFormatting.csvField("+1") == "'+1")
        #expect(TextFormatting.csvField("-2") == "'-2")
        #expect(TextFormatting.csvField("@SUM(A1)") == "'@SUM(A1)")
        #expect(TextFormatting.csvField("a=b") == "a=b", "only a leading sign is a formula")
        #expect(TextFormatting.csvField("bell\u{07}") == "bell\\x07")
        #expect(TextFormatting.csvField("two\r\nlines") == "\"two\r\nlines\"", "CR LF inside a field stays data")
    }

    @Test func auditExportsRFC4180CSV() {
        let rows = [
            LedgerRow(seq: 1, at: "2026-11-01T09:00:00+08:00", actor: "admin", instance: 7, event: "start", text: "started, \"now\"", hash: "aa"),
            LedgerRow(seq: 2, at: "2026-11-01T09:00:00+08:00", actor: "huayingd", instance: 7, step: "kickoff", event: "record",
                      text: "成立选举委员会\n第二行", fields: ["members": "5"], hash: "bb"),
            LedgerRow(seq: 3, at: "2026-11-02T09:00:00+08:00", actor: "huayingd", event: "clock", text: "plain", hash: "cc"),
        ]
        let expected = [
            "seq,at,actor,instance,step,event,text,hash",
            #"1,2026-11-01T09:00:00+08:00,admin,7,,start,"started, ""now""",aa"#,
            "2,2026-11-01T09:00:00+08:00,huayingd,7,kickoff,record,\"成立选举委员会\n第二行\",bb",
            "3,2026-11-02T09:00:00+08:00,huayingd,,,clock,plain,cc",
        ].map { $0 + "\r\n" }.joined()
        #expect(AuditResult(rows: rows).csv() == expected)
        #expect(AuditResult(rows: []).csv() == "seq,at,actor,instance,step,event,text,hash\r\n")
    }
}
