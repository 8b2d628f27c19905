import Testing
import ControlProtocol

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

    @Test func weekdaysAreRightAcrossCenturies() {
        #expect(TextFormatting.chineseWeekday(year: 1970, month: 1, day: 1) == "周四")
        #expect(TextFormatting.chineseWeekday(year: 2000, month: 3, day: 1) == "周三")
        #expect(TextFormatting.chineseWeekday(year: 2026, month: 10, day: 1) == "周四")
        #expect(TextFormatting.chineseWeekday(year: 1949, month: 10, day: 1) == "周六")
    }

    @Test func durationsShowLargestUnitsDownToMinutes() {
        #expect(TextFormatting.duration(seconds: 11_520) == "3h12m")
        #expect(TextFormatting.duration(seconds: 2 * 86_400 + 4 * 3600) == "2d4h")
        #expect(TextFormatting.duration(seconds: 86_400 + 300) == "1d5m")
        #expect(TextFormatting.duration(seconds: 45) == "45s")
        #expect(TextFormatting.duration(seconds: 0) == "0s")
        #expect(TextFormatting.duration(seconds: 90) == "1m")
    }
}
