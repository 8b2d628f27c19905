import Testing
import ControlProtocol

@Suite struct LineFramerTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func splitsLinesAcrossChunks() {
        var framer = LineFramer(maxLineBytes: 100)
        #expect(framer.append(bytes("{\"a\"")) == [])
        #expect(framer.hasPartialLine)
        #expect(framer.append(bytes(":1}\n{\"b\":2}\n{")) == [.line(bytes("{\"a\":1}")), .line(bytes("{\"b\":2}"))])
        #expect(framer.hasPartialLine)
        #expect(framer.append(bytes("}\n")) == [.line(bytes("{}"))])
        #expect(!framer.hasPartialLine)
    }

    @Test func stripsCarriageReturnAndKeepsEmptyLines() {
        var framer = LineFramer(maxLineBytes: 100)
        #expect(framer.append(bytes("x\r\n\n")) == [.line(bytes("x")), .line([])])
    }

    @Test func refusesALongLineOnceAndRecoversAtTheNextNewline() {
        var framer = LineFramer(maxLineBytes: 8)
        #expect(framer.append(bytes("12345")) == [])
        #expect(framer.append(bytes("6789")) == [.tooLong])
        #expect(framer.append(bytes("more and more")) == [])
        #expect(framer.append(bytes("end\nok\n")) == [.line(bytes("ok"))])
        #expect(!framer.hasPartialLine)
    }

    @Test func refusesALongLineThatArrivesWhole() {
        var framer = LineFramer(maxLineBytes: 4)
        #expect(framer.append(bytes("123456\nabcd\n")) == [.tooLong, .line(bytes("abcd"))])
    }

    @Test func acceptsALineOfExactlyTheLimit() {
        var framer = LineFramer(maxLineBytes: 4)
        #expect(framer.append(bytes("abcd")) == [])
        #expect(framer.append(bytes("\n")) == [.line(bytes("abcd"))])
    }
}
