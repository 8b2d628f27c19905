import Foundation
import Testing
@testable import huayingd

/// Every log line is one line with nothing a terminal obeys: in the foreground the log is the
/// terminal, and a finding quotes what a file says ("\e[2J" is valid YAML). Metadata values
/// were escaped for quotes and newlines only, messages not at all.
@Suite struct LogLineTests {
    @Test func aFindingQuotingAnEscapeReachesTheLogEscaped() throws {
        // YAML's own escapes: the file is clean text, the value it names holds ESC and BEL.
        let broken = drillWorkflow.replacingOccurrences(of: "calendar: cn-mainland", with: "calendar: \"cn\\e[2J\\a\"")
        #expect(broken != drillWorkflow)
        let site = try TestSite(checkoutWorkflows: [], workflowTexts: ["drill.yaml": drillWorkflow, "broken.yaml": broken.replacingOccurrences(of: "workflow: drill", with: "workflow: broken")])
        defer { site.remove() }
        let daemon = try simulatedDaemon(site, at: "2026-11-01T09:00+08:00")
        #expect(daemon.stop() == 0)
        let log = daemon.log
        #expect(log.contains("workflow file not loaded") && log.contains("cn\\x1B[2J"), "\(log.suffix(1500))")
        #expect(!log.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "no raw escape or bell in the log")
        #expect(log.contains("cn\\x1B[2J\\x07"), "shown as escapes")
    }

    @Test func metadataValuesWithControlCharactersAreQuotedAndEscaped() {
        #expect(JournalLogHandler.quoted("plain") == "plain")
        #expect(JournalLogHandler.quoted("a b") == "\"a b\"")
        #expect(JournalLogHandler.quoted("line\nnext \"q\"") == "\"line\\nnext \\\"q\\\"\"")
        #expect(JournalLogHandler.quoted("\u{1B}]0;title\u{07}") == "\"\\x1B]0;title\\x07\"")
        #expect(JournalLogHandler.quoted("\u{202E}cod.exe") == "\"\\u{202E}cod.exe\"")
    }
}
